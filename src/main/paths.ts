// Where things live on disk. The Electron app passes its userData folder; the CLI and serve use
// $DYNAMICS_HOME, else the same folder Electron would pick, so every interface sees the same runs.
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PRODUCT_NAME = 'DynaMiCS Studio';

/** The platform's per-user application data folder, as Electron's `app.getPath('userData')` computes it. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const home = os.homedir();
  let appData: string;
  if (platform === 'darwin') appData = path.join(home, 'Library', 'Application Support');
  else if (platform === 'win32') appData = env.APPDATA ?? path.join(home, 'AppData', 'Roaming');
  else appData = env.XDG_CONFIG_HOME ?? path.join(home, '.config');
  return path.join(appData, PRODUCT_NAME);
}

export function resolveDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.DYNAMICS_HOME?.trim();
  return fromEnv ? path.resolve(fromEnv) : defaultDataDir(env);
}

/** The layout under a data directory; identical in the app, the CLI and serve. */
export function dataLayout(root: string) {
  return {
    root,
    database: path.join(root, 'dynamics.db'),
    runs: path.join(root, 'runs'),
    datasets: path.join(root, 'datasets'),
    models: path.join(root, 'models'),
    graphCache: path.join(root, 'cache', 'graphs'),
    tokenCache: path.join(root, 'cache', 'tokens'),
  };
}
export type DataLayout = ReturnType<typeof dataLayout>;

let appRootCache: string | undefined;

/**
 * The checkout or installed app folder (the one holding our package.json). Found by walking up
 * from this file, which works from src/ under tests, from out/ once built, and inside app.asar.
 */
export function appRoot(): string {
  if (appRootCache) return appRootCache;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'dynamics-studio') {
      return (appRootCache = dir);
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the application folder (our package.json)');
    dir = parent;
  }
}

/**
 * Bundled resources (demo model, tokenizer, corpora): next to package.json in a checkout, in
 * Electron's resources folder once packaged (they are unpacked there so native code can read them).
 */
export function resourcesDir(): string {
  const candidates = [path.join(appRoot(), 'resources')];
  const packaged = (process as { resourcesPath?: string }).resourcesPath;
  if (packaged) candidates.push(path.join(packaged, 'resources'));
  return candidates.find((c) => existsSync(c)) ?? candidates[0]!;
}

export function appVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(appRoot(), 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}
