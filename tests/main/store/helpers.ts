// Shared setup for the store tests: a fresh store in a temp folder, a run with sources and
// domains, and the forked writer process (tests/main/store/fixtures/writer-process.ts) run
// under tsx so it uses the same TypeScript sources.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Store } from '../../../src/main/store/index';

export const APP_VERSION = '0.0.0-test';
const here = path.dirname(fileURLToPath(import.meta.url));
export const WRITER_SCRIPT = path.join(here, 'fixtures', 'writer-process.ts');

export function openStore(file: string): Store {
  return Store.open(file, { appVersion: APP_VERSION });
}

/** The value the writer fixture records for (step, domain index), so readers can check it. */
export function metricValue(step: number, domain: number): number {
  return Math.sin(step * 0.01 + domain) + domain;
}

export const DOMAINS = ['code', 'math', 'safety'] as const;

export function createRun(store: Store, name = 'test run'): number {
  return store.runs.create({
    name,
    config: { steps: 100, note: 'test' },
    strategy: 'dynamics',
    seed: 7,
    sources: ['a', 'b'],
    domains: [
      { id: 'code', role: 'target' },
      { id: 'math', role: 'constraint' },
      { id: 'safety', role: 'constraint' },
    ],
    tags: ['t1'],
    totalSteps: 100,
  });
}

/** Forks the writer fixture with IPC; messages it sends arrive on the returned process. */
export function forkWriter(args: string[]): ChildProcess {
  return fork(WRITER_SCRIPT, args, { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
}

/** Runs the writer fixture under `ulimit -f` (file-size cap, in 512-byte blocks), without IPC. */
export function spawnWriterWithFileLimit(
  blocks: number,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', `ulimit -f ${blocks} && exec "$0" --import tsx "$@"`, process.execPath, WRITER_SCRIPT, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}
