#!/usr/bin/env node
// `npm run setup:cuda`: installs ONNX Runtime's CUDA execution provider next to onnxruntime-node.
// First ORT's own installer (it downloads from NuGet); when that source cannot be reached, the
// version-matched provider libraries from the npm registry (a repackaging of the official release).
// The provider libraries must match the ORT core version exactly, so the copy is verified.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const nodeRequire = createRequire(path.join(root, 'package.json'));
const ortPkgDir = path.dirname(nodeRequire.resolve('onnxruntime-node/package.json'));
const ortVersion = JSON.parse(readFileSync(path.join(ortPkgDir, 'package.json'), 'utf8')).version;
const binDir = path.join(ortPkgDir, 'bin', 'napi-v6', process.platform, process.arch);
const CUDA_LIB = 'libonnxruntime_providers_cuda.so';
const LIBS = ['libonnxruntime_providers_shared.so', CUDA_LIB];
// The npm-registry fallback: which package version carries which ORT release's provider libraries.
const REGISTRY_FALLBACK = { '1.29.0': { name: 'com.github.asus4.onnxruntime.linux-x64-gpu', version: '0.4.9', dir: 'package/Plugins/Linux/x64' } };

function finish(ok, sentence) {
  process.stdout.write(`${sentence}\n`);
  process.exit(ok ? 0 : 1);
}

/** A provider library built for ORT X.Y.Z carries that version string; a mismatch cannot load. */
function carriesVersion(file, version) {
  return readFileSync(file).includes(Buffer.from(version, 'latin1'));
}

function installedAndMatching() {
  return LIBS.every((lib) => existsSync(path.join(binDir, lib))) && carriesVersion(path.join(binDir, CUDA_LIB), ortVersion);
}

function tryOrtInstaller() {
  const r = spawnSync(process.execPath, [path.join(ortPkgDir, 'script', 'install.js'), '--onnxruntime-node-install=cuda12'], {
    cwd: ortPkgDir,
    encoding: 'utf8',
    timeout: 10 * 60_000,
  });
  if (r.status === 0 && installedAndMatching()) return { ok: true };
  const lines = (r.error?.message ?? `${r.stderr}\n${r.stdout}`).split('\n').map((l) => l.trim()).filter(Boolean);
  const why = lines.find((l) => /error|fail|ENOTFOUND|EAI_AGAIN|ECONNREFUSED/i.test(l)) ?? lines[0] ?? 'no output';
  return { ok: false, why };
}

function tryRegistryPackage() {
  const pkg = REGISTRY_FALLBACK[ortVersion];
  if (!pkg) return { ok: false, why: `no npm-registry package is known to carry the CUDA provider of ONNX Runtime ${ortVersion}` };
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'dynamics-cuda-'));
  try {
    execFileSync('npm', ['pack', `${pkg.name}@${pkg.version}`, '--pack-destination', scratch, '--silent'], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 15 * 60_000 });
    const tgz = readdirSync(scratch).find((f) => f.endsWith('.tgz'));
    if (!tgz) return { ok: false, why: `npm pack ${pkg.name}@${pkg.version} produced no archive` };
    const members = LIBS.map((lib) => `${pkg.dir}/${lib}`);
    execFileSync('tar', ['-xzf', path.join(scratch, tgz), '-C', scratch, ...members]);
    if (!carriesVersion(path.join(scratch, pkg.dir, CUDA_LIB), ortVersion)) {
      return { ok: false, why: `${CUDA_LIB} in ${pkg.name}@${pkg.version} is not built for ONNX Runtime ${ortVersion}` };
    }
    for (const lib of LIBS) copyFileSync(path.join(scratch, pkg.dir, lib), path.join(binDir, lib));
    return { ok: true, source: `${pkg.name}@${pkg.version} from the npm registry` };
  } catch (err) {
    const msg = String(err.stderr ?? err.message ?? err).split('\n').map((l) => l.trim()).filter(Boolean)[0];
    return { ok: false, why: `npm pack ${pkg.name}@${pkg.version} failed: ${msg}` };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Asks the product's own runtime adapter whether the provider loads, and why not. */
function probe() {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', "import('./src/main/engine/runtime/ort.ts').then(async (m) => { const p = await m.probeExecutionProviders(); process.stdout.write(JSON.stringify(p.find((x) => x.name === 'cuda'))); })"], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });
  try {
    return JSON.parse(r.stdout);
  } catch {
    return { usable: false, detail: `the probe did not run: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}` };
  }
}

if (process.platform !== 'linux' || process.arch !== 'x64') {
  finish(false, `setup:cuda: nothing installed: ONNX Runtime's CUDA execution provider for Node is available for Linux x64 only (this is ${process.platform} ${process.arch}).`);
}

let source;
if (installedAndMatching()) {
  source = 'the copy already installed';
} else {
  const viaOrt = tryOrtInstaller();
  if (viaOrt.ok) source = "ONNX Runtime's own installer";
  else {
    const viaRegistry = tryRegistryPackage();
    if (!viaRegistry.ok) {
      finish(false, `setup:cuda: the CUDA execution provider could not be installed: ONNX Runtime's installer failed (${viaOrt.why}) and so did the npm-registry fallback (${viaRegistry.why}).`);
    }
    source = viaRegistry.source;
  }
}
const status = probe();
if (status.usable) finish(true, `setup:cuda: the CUDA execution provider for ONNX Runtime ${ortVersion} is installed (from ${source}) and runs on this machine's GPU.`);
finish(true, `setup:cuda: the CUDA execution provider for ONNX Runtime ${ortVersion} is installed (from ${source}, version verified), but it cannot run here: ${status.detail.replace(/^the CUDA execution provider (is installed but cannot load|loads but cannot run): /, '')}; training will use the CPU.`);
