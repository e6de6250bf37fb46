// The reference integration end to end: `dynamics serve` (a real core on loopback) and the PyTorch
// script integrations/python/examples/reference_torch.py in a real python3 process, which
// registers a run, answers every task with a tiny model and finishes it. The stored run is then
// checked like any run (decisions, curves, score), replayed through our own loop on the losses the
// script reported (decision for decision), and continued after the script exits abruptly.
// Skipped, with the reason, where no python3 can import torch (Debian: apt install python3-torch).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../../src/main/bootstrap';
import { createMixtureSolver } from '../../src/main/mixture/solver';
import { runExperiment } from '../../src/main/runner/experiment';
import { CONTROLLER_LOG } from '../../src/main/runner/remote-host';
import { startServer, type RunningServer } from '../../src/main/serve/server';
import { parseRunConfig } from '../../src/shared/run-config';
import { tempDir } from '../helpers/temp';
import { readControllerLog, ReplayTrainer } from '../main/runner/replay-trainer';

const SCRIPT = path.resolve('integrations/python/examples/reference_torch.py');
const HF_CHECK = path.resolve('integrations/python/tests/hf_callback_check.py');
/** Seconds of work each; generous for a busy CI machine (the scripts are killed at 170 s). */
const SCRIPT_TIMEOUT_MS = 180_000;

/** A python3 that can import torch: $DYNAMICS_PYTHON when set (and only it), else Debian's, then whatever `python3` is. */
function findTorchPython(): string | null {
  const chosen = process.env.DYNAMICS_PYTHON;
  const candidates = chosen ? [chosen] : ['/usr/bin/python3', 'python3'];
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 });
    if (r.status === 0) return py;
  }
  return null;
}

const python = findTorchPython();
if (!python) {
  const tried = process.env.DYNAMICS_PYTHON ? `$DYNAMICS_PYTHON (${process.env.DYNAMICS_PYTHON})` : 'no python3 here';
  console.warn(`skipping the PyTorch reference integration: ${tried} cannot import torch (Debian: apt install python3-torch; or set DYNAMICS_PYTHON to a python with torch)`);
}

interface Exit {
  code: number | null;
  out: string;
  seconds: number;
}

function runScript(args: string[], token: string, script = SCRIPT): Promise<Exit> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(python!, [script, ...args], { env: { ...process.env, DYNAMICS_TOKEN: token, OMP_NUM_THREADS: '1', PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 170_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, seconds: (Date.now() - t0) / 1000 });
    });
  });
}

describe.skipIf(!python)('the PyTorch reference integration', () => {
  const dir = tempDir();
  let core: Core;
  let server: RunningServer;
  /** The uninterrupted run's decisions, which the interrupted one (same seed) must repeat. */
  let uninterrupted: { step: number; weights: number[] }[] = [];

  beforeAll(async () => {
    core = createCore({ dataDir: path.join(dir, 'data') });
    server = await startServer({ core, port: 0 });
  });
  afterAll(async () => {
    await server.close();
    await core.close();
  });

  it('fine-tunes a tiny model under the controller; the stored run equals our loop fed the same losses', async () => {
    const ckpt = path.join(dir, 'ckpt-a');
    mkdirSync(ckpt);
    const exit = await runScript(['--url', server.url, '--checkpoint-dir', ckpt], server.token);
    expect(exit.out).toMatch(/run \d+ completed/);
    expect(exit.code).toBe(0);
    const runId = Number(/run (\d+) registered/.exec(exit.out)![1]);
    await core.controller.host.settled(runId);

    const run = core.store.reader.get(runId);
    expect(run).toMatchObject({ status: 'completed', device: 'external' });
    expect(run.launch?.external?.trainer).toMatch(/^PyTorch /);
    const decisions = core.store.reader.decisions(runId);
    expect(decisions.map((d) => d.step)).toEqual([0, 16, 32, 48, 64, 80, 96, 112]);
    for (const d of decisions) {
      expect(d.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
      expect(d.slopes).toHaveLength(3);
    }
    // The script printed every decision it received, with its reason.
    expect(exit.out.match(/^step +\d+: prose/gm)).toHaveLength(decisions.length);
    const curves = await core.dispatch('runs.curves', { id: runId, maxPoints: 0 });
    const series = curves.ok ? (curves.value as { series: { kind: string; domain: string; steps: number[] }[] }).series : [];
    expect(series.filter((s) => s.kind === 'eval_loss').map((s) => s.domain).sort()).toEqual(['arith', 'code', 'prose']);
    expect(series.find((s) => s.kind === 'train_loss')!.steps.at(-1)).toBe(128);
    expect(run.targetGain).not.toBeNull();

    const config = parseRunConfig(run.config);
    const replay = new ReplayTrainer(readControllerLog(path.join(core.layout.runs, String(runId), CONTROLLER_LOG)));
    const replayed = await runExperiment(config, replay, await createMixtureSolver());
    expect(replay.remaining).toBe(0);
    expect(replayed.history.decisions.map((d) => ({ step: d.step, weights: d.weights, slopes: d.slopes, status: d.status }))).toEqual(
      decisions.map((d) => ({ step: d.step, weights: d.weights, slopes: d.slopes, status: d.status })),
    );
    expect(replayed.test.targetPplReduction).toBe(run.targetGain);
    uninterrupted = decisions.map((d) => ({ step: d.step, weights: d.weights }));
    console.log(`reference integration: run ${runId} in ${exit.seconds.toFixed(1)} s\n${exit.out}`);
  }, SCRIPT_TIMEOUT_MS);

  it('continues a run after the script stopped abruptly, from its checkpoint', async () => {
    const ckpt = path.join(dir, 'ckpt-b');
    mkdirSync(ckpt);
    const first = await runScript(['--url', server.url, '--checkpoint-dir', ckpt, '--stop-after-tasks', '25'], server.token);
    expect(first.code).toBe(3);
    const runId = Number(/run (\d+) registered/.exec(first.out)![1]);
    // The script said nothing: it resumes now, before its lease runs out (the new session replaces the old).
    const second = await runScript(['--url', server.url, '--checkpoint-dir', ckpt, '--run-id', String(runId)], server.token);
    expect(second.out).toMatch(/continued from step (32|64)/);
    expect(second.out).toMatch(/run \d+ completed/);
    await core.controller.host.settled(runId);
    expect(core.store.reader.get(runId).status).toBe('completed');
    // The script's checkpoint holds model, optimizer and sampler: the run continues exactly.
    expect(core.store.reader.decisions(runId).map((d) => ({ step: d.step, weights: d.weights }))).toEqual(uninterrupted);
    console.log(`reference integration, stopped and continued: run ${runId} in ${first.seconds.toFixed(1)} + ${second.seconds.toFixed(1)} s\n${first.out}${second.out}`);
  }, SCRIPT_TIMEOUT_MS);

  it('trains in two processes (torch.distributed, gloo): rank 0 talks to the controller and broadcasts each task', async () => {
    const ckpt = path.join(dir, 'ckpt-c');
    mkdirSync(ckpt);
    const exit = await runScript(['--url', server.url, '--checkpoint-dir', ckpt, '--world-size', '2'], server.token);
    expect(exit.out).toMatch(/run \d+ completed/);
    expect(exit.code).toBe(0);
    const runId = Number(/run (\d+) registered/.exec(exit.out)![1]);
    await core.controller.host.settled(runId);
    const run = core.store.reader.get(runId);
    expect(run).toMatchObject({ status: 'completed', name: 'reference: char MLP in PyTorch (2 processes)' });
    expect(run.launch?.external?.trainer).toMatch(/2 processes of 1 CPU thread/);
    // Each process trains on half of every batch of the same data order: the same decisions as one process, up to round-off.
    const decisions = core.store.reader.decisions(runId);
    expect(decisions.map((d) => d.step)).toEqual(uninterrupted.map((d) => d.step));
    decisions.forEach((d, k) => d.weights.forEach((w, j) => expect(Math.abs(w - uninterrupted[k]!.weights[j]!)).toBeLessThan(0.05)));
    console.log(`reference integration, 2 processes: run ${runId} in ${exit.seconds.toFixed(1)} s\n${exit.out}`);
  }, SCRIPT_TIMEOUT_MS);

  it('runs the Hugging Face callback to the end in the Trainer\'s order of calls (without transformers)', async () => {
    const exit = await runScript(['--url', server.url], server.token, HF_CHECK);
    expect(exit.out).toMatch(/run \d+ completed: 4 decisions, 64 steps/);
    expect(exit.code).toBe(0);
    const runId = Number(/run (\d+) registered/.exec(exit.out)![1]);
    await core.controller.host.settled(runId);
    expect(core.store.reader.get(runId).status).toBe('completed');
    expect(core.store.reader.decisions(runId).map((d) => d.step)).toEqual([0, 16, 32, 48]);
    expect(core.store.reader.checkpoints(runId).map((c) => c.step)).toEqual([32, 64]);
  }, SCRIPT_TIMEOUT_MS);
});
