// What electron-vite (Vite) replaces in the main bundle at build time: `import.meta.env.DEV` is
// true only under `electron-vite dev`.
interface ImportMetaEnv {
  readonly DEV: boolean;
}

interface ImportMeta {
  readonly env: ImportMetaEnv;
}
