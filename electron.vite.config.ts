// Builds three bundles: main (the Electron app, the `dynamics` CLI, the trainer process entry and
// the tokenization worker, all plain Node ESM), the sandboxed preload (one CommonJS file), and the
// Vue renderer.
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'electron-vite';
import { resolve } from 'node:path';

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rollupOptions: {
        input: {
          index: resolve('src/main/app/index.ts'),
          cli: resolve('src/main/cli/main.ts'),
          trainer: resolve('src/main/runner/trainer-process.ts'),
          'data-worker': resolve('src/main/data/encode-worker.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      // A sandboxed preload can require nothing but 'electron': bundle everything else into it.
      externalizeDeps: false,
      rollupOptions: {
        input: { index: resolve('src/preload/index.ts') },
        external: ['electron'],
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve('src/renderer'),
    plugins: [vue()],
    build: {
      outDir: 'out/renderer',
      rollupOptions: { input: { index: resolve('src/renderer/index.html') } },
    },
  },
});
