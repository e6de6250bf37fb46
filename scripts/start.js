#!/usr/bin/env node
// `npm start`: builds and opens the desktop app. Without the Electron binary it first tries
// `setup:electron`; when that cannot work (no network), it says so and points to the browser UI.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const nodeRequire = createRequire(path.join(root, 'package.json'));
const electronDir = path.dirname(nodeRequire.resolve('electron/package.json'));

function electronExecutable() {
  try {
    const file = path.join(electronDir, 'dist', readFileSync(path.join(electronDir, 'path.txt'), 'utf8'));
    return existsSync(file) ? file : undefined;
  } catch {
    return undefined;
  }
}

function run(cmd, args) {
  return spawnSync(cmd, args, { cwd: root, stdio: 'inherit' }).status ?? 1;
}

let electron = electronExecutable();
if (!electron) {
  process.stdout.write('start: the Electron binary is not installed; trying `npm run setup:electron`…\n');
  run(process.execPath, [path.join(root, 'scripts', 'setup-electron.js')]);
  electron = electronExecutable();
}
if (!electron) {
  process.stderr.write(
    'start: the desktop app cannot open: the Electron binary is missing and could not be fetched.\n' +
      'Use the browser UI instead: `npm run build && npx dynamics serve`, then open the address it prints.\n',
  );
  process.exit(1);
}
if (run(process.execPath, [path.join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build']) !== 0) {
  process.stderr.write('start: the build failed (see above).\n');
  process.exit(1);
}
process.exit(run(electron, [root]));
