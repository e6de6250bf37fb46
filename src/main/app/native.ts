// Where the desktop app finds better-sqlite3 built for Electron's ABI: packaged, electron-builder
// copies it to resources/native/ (electron-builder.yml); in a checkout, `npm run setup:electron`
// builds it into .electron-native/. node_modules keeps the Node build for the CLI and tests.
import { existsSync } from 'node:fs';
import path from 'node:path';

export const NATIVE_SQLITE = 'better_sqlite3.node';

export interface NativeLocations {
  /** Electron's process.resourcesPath when packaged. */
  resourcesPath: string | undefined;
  packaged: boolean;
  /** The checkout (the folder of package.json). */
  appRoot: string;
}

/** The candidate paths, in order. */
export function sqliteBindingCandidates(where: NativeLocations): string[] {
  const checkout = path.join(where.appRoot, '.electron-native', 'node_modules', 'better-sqlite3', 'build', 'Release', NATIVE_SQLITE);
  if (where.packaged && where.resourcesPath) return [path.join(where.resourcesPath, 'native', NATIVE_SQLITE), checkout];
  return [checkout];
}

/** The Electron build of better-sqlite3, or the sentence that says why there is none. */
export function findSqliteBinding(where: NativeLocations, exists: (p: string) => boolean = existsSync): { path: string } | { problem: string } {
  const candidates = sqliteBindingCandidates(where);
  const found = candidates.find((p) => exists(p));
  if (found) return { path: found };
  return {
    problem: where.packaged
      ? `this installation is missing ${candidates[0]} (the database driver built for the app); reinstall DynaMiCS Studio`
      : `better-sqlite3 is not built for Electron yet (${candidates[0]} is missing): run \`npm run setup:electron\`, or use the browser UI with \`npx dynamics serve\``,
  };
}
