#!/usr/bin/env node
// `npm run setup:electron`: fetches the Electron binary through electron's own installer, then
// builds better-sqlite3 for Electron's ABI into .electron-native/ (the Node build in node_modules
// stays as it is, for the CLI and the tests). The app loads that copy when it runs inside Electron.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const nodeRequire = createRequire(path.join(root, 'package.json'));
const electronDir = path.dirname(nodeRequire.resolve('electron/package.json'));
const electronVersion = JSON.parse(readFileSync(path.join(electronDir, 'package.json'), 'utf8')).version;
export const ELECTRON_NATIVE_DIR = path.join(root, '.electron-native');

function finish(ok, sentence) {
  process.stdout.write(`${sentence}\n`);
  process.exit(ok ? 0 : 1);
}

function reasonOf(output) {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.find((l) => /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|status code|Error:/.test(l)) ?? lines[0] ?? 'no output';
}

export function electronBinaryPresent() {
  try {
    const file = readFileSync(path.join(electronDir, 'path.txt'), 'utf8');
    return existsSync(path.join(electronDir, 'dist', file));
  } catch {
    return false;
  }
}

function fetchElectron() {
  if (electronBinaryPresent()) return { ok: true };
  const r = spawnSync(process.execPath, [path.join(electronDir, 'install.js')], { cwd: electronDir, encoding: 'utf8', timeout: 15 * 60_000 });
  if (r.status === 0 && electronBinaryPresent()) return { ok: true };
  return { ok: false, why: reasonOf(r.error?.message ?? `${r.stderr}\n${r.stdout}`) };
}

/** npm's own node-gyp: building for Electron needs nothing beyond what npm ships. */
function nodeGypScript() {
  const globalRoot = spawnSync('npm', ['root', '-g'], { encoding: 'utf8' }).stdout.trim();
  const script = path.join(globalRoot, 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  return existsSync(script) ? script : undefined;
}

/**
 * Builds a copy of better-sqlite3 against Electron's headers (node-gyp fetches them from
 * electronjs.org), leaving node_modules' Node build untouched.
 */
function rebuildSqliteForElectron() {
  const target = path.join(ELECTRON_NATIVE_DIR, 'node_modules', 'better-sqlite3');
  rmSync(ELECTRON_NATIVE_DIR, { recursive: true, force: true });
  mkdirSync(path.dirname(target), { recursive: true });
  const source = path.dirname(nodeRequire.resolve('better-sqlite3/package.json'));
  cpSync(source, target, { recursive: true, filter: (p) => !p.includes(`${path.sep}build${path.sep}`) && !p.endsWith(`${path.sep}build`) });
  writeFileSync(path.join(ELECTRON_NATIVE_DIR, 'package.json'), JSON.stringify({ name: 'electron-native', private: true }));
  const gyp = nodeGypScript();
  if (!gyp) return { ok: false, why: "npm's node-gyp was not found" };
  const r = spawnSync(process.execPath, [gyp, 'rebuild', '--release', '--runtime=electron', `--target=${electronVersion}`, '--dist-url=https://electronjs.org/headers'], {
    cwd: target,
    encoding: 'utf8',
    timeout: 20 * 60_000,
  });
  const binary = path.join(target, 'build', 'Release', 'better_sqlite3.node');
  if (r.status === 0 && existsSync(binary)) return { ok: true, binary };
  return { ok: false, why: reasonOf(r.error?.message ?? `${r.stderr}\n${r.stdout}`) };
}

const fetched = fetchElectron();
if (!fetched.ok) {
  finish(false, `setup:electron: the Electron ${electronVersion} binary could not be fetched (${fetched.why}); use the browser UI instead: \`npm run build && npx dynamics serve\`.`);
}
const rebuilt = rebuildSqliteForElectron();
if (!rebuilt.ok) {
  finish(false, `setup:electron: Electron ${electronVersion} is installed, but better-sqlite3 could not be built for it (${rebuilt.why}); the desktop app needs that build, the browser UI (\`npx dynamics serve\`) does not.`);
}
finish(true, `setup:electron: Electron ${electronVersion} is installed and better-sqlite3 is built for it in .electron-native/; start the app with \`npm start\`.`);
