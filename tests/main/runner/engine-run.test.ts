// A real DynaMiCS run: the experiment loop on EngineTrainer (ONNX Runtime sessions, the data
// layer's streams and evaluation sets) with a tiny random-init model and small slices of the
// bundled corpora: 3 sources, 4 domains, 2 constraints. It must complete with probes, decisions,
// evaluations, checkpoints and a report, and resume from a checkpoint to the same end.
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMixtureSolver, type DefaultMixtureSolver } from '../../../src/main/mixture/solver';
import { OrtRuntime } from '../../../src/main/engine/runtime/ort-runtime';
import { FolderCheckpointStorage } from '../../../src/main/runner/checkpoint-storage';
import { loadRunConfigFile } from '../../../src/main/runner/config-file';
import { PreparedRun, type EngineEnvironment } from '../../../src/main/runner/engine-setup';
import type { RunEvent, RunReport } from '../../../src/main/runner/events';
import { runExperiment } from '../../../src/main/runner/experiment';
import type { LoopState } from '../../../src/main/runner/state';
import { resourcesDir } from '../../../src/main/paths';
import type { RunConfig } from '../../../src/shared/run-config';
import { tempDir } from '../../helpers/temp';
import { writeTinyCorpora, writeTinyModel } from './tiny-fixtures';

const dir = tempDir('dynamics-engine-run-');
let config: RunConfig;
let env: EngineEnvironment;
let prepared: PreparedRun;
let solver: DefaultMixtureSolver;

beforeAll(async () => {
  writeTinyModel(path.join(dir, 'tiny-model'));
  writeTinyCorpora(path.join(dir, 'corpora'), ['code', 'email', 'licenses', 'dictionary']);
  const file = path.join(dir, 'tiny-run.yaml');
  copyFileSync(path.join(__dirname, '../../fixtures/runner/tiny-run.yaml'), file);
  config = loadRunConfigFile(file);
  env = {
    runtime: new OrtRuntime(),
    graphCacheDir: path.join(dir, 'cache', 'graphs'),
    tokenCacheDir: path.join(dir, 'cache', 'tokens'),
    resourcesDir: resourcesDir(),
    baseDir: dir,
    threads: 1,
  };
  prepared = await PreparedRun.open(config, env);
  solver = await createMixtureSolver();
});

afterAll(() => prepared?.close());

describe('a real run on the engine', () => {
  let report: RunReport;
  const events: RunEvent[] = [];
  const states: LoopState[] = [];

  beforeAll(async () => {
    const trainer = await prepared.createTrainer(config, new FolderCheckpointStorage(path.join(dir, 'run', 'checkpoints')));
    try {
      expect(trainer.device).toEqual({ device: 'cpu', reason: 'the CPU was requested' });
      report = await runExperiment(config, trainer, solver, { onEvent: (e) => events.push(e), onState: (s) => states.push(s), progressChunkSteps: 4 });
    } finally {
      await trainer.close();
    }
  });

  it('probes every source at every update and decides a mixture from the slopes', () => {
    const decisions = report.history.decisions;
    expect(decisions.map((d) => d.step)).toEqual([0, 8, 16]);
    for (const d of decisions) {
      expect(d.probeSteps).toBe(4);
      expect(d.slopes).toHaveLength(4);
      for (const row of d.slopes!) {
        expect(row).toHaveLength(3);
        for (const s of row) expect(Number.isFinite(s)).toBe(true);
      }
      // Probing moves the losses: a slope matrix of zeros would mean probes were not trained.
      expect(d.slopes!.flat().some((s) => s !== 0)).toBe(true);
      expect(d.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
      expect(['feasible', 'infeasible']).toContain(d.status);
    }
    expect(decisions[0]!.anchorRecycled).toBe(true);
  });

  it('evaluates every domain at steps 0, 8, 16, 24 and checkpoints each', () => {
    expect(report.history.evals.map((e) => e.step)).toEqual([0, 8, 16, 24]);
    for (const e of report.history.evals) {
      expect(e.losses).toHaveLength(4);
      // A random-init model over a 4096-token vocabulary starts near ln 4096 ≈ 8.3.
      for (const l of e.losses) expect(l).toBeGreaterThan(5);
      if (e.step > 0) expect(e.checkpoint?.id).toMatch(/^step-000000\d\d\.ckpt#[0-9a-f]{64}:\d+$/);
    }
    expect(report.references.references[1]).toBe(report.references.baseLosses[1]);
    expect(report.references.references[2]).toBeCloseTo(report.references.baseLosses[2]! * 1.01, 12);
    expect(report.references.references[0]).toBeNull();
  });

  it('trains: the main run takes every step and lowers the training loss of its mixture', () => {
    const train = report.history.train;
    expect(train.reduce((s, t) => s + t.steps, 0)).toBe(24);
    expect(train.every((t) => t.skippedSteps === 0 && Number.isFinite(t.meanLoss))).toBe(true);
    expect(train.at(-1)!.meanLoss).toBeLessThan(train[0]!.meanLoss);
  });

  it('reports test results, feasibility, cost and wall time per phase', () => {
    expect(report.test.targets.map((t) => t.domain)).toEqual(['code']);
    expect(report.test.constraints.map((c) => c.domain)).toEqual(['email', 'licenses']);
    expect(Number.isFinite(report.test.maxViolation)).toBe(true);
    if (report.feasible) expect(report.test.targets[0]!.testLoss).not.toBeNull();
    // Probing costs: 3 sources × 4 steps per update, on top of the 24 main steps.
    expect(report.cost.forwardEquivalents.probeTraining).toBe(3 * 3 * 4 * 3);
    expect(report.cost.multiple).toBeGreaterThan(1);
    for (const c of ['training', 'probeTraining', 'probeEval', 'regularEval', 'testEval', 'checkpointing'] as const) {
      expect(report.cost.wallSeconds[c], c).toBeGreaterThan(0);
    }
    const progress = events.filter((e) => e.type === 'progress');
    expect(new Set(progress.map((p) => (p as Extract<RunEvent, { type: 'progress' }>).phase))).toEqual(new Set(['training', 'probing', 'evaluating']));
    expect(events.at(-1)).toEqual({ type: 'finished', report });
  });

  it('resumes from its state at a checkpoint with a fresh trainer and ends with the same history', async () => {
    const at8 = states.find((s) => s.step === 8);
    expect(at8?.checkpoint?.step).toBe(8);
    const trainer = await prepared.createTrainer(config, new FolderCheckpointStorage(path.join(dir, 'run', 'checkpoints')));
    const resumed = await runExperiment(config, trainer, solver, { resume: at8!, progressChunkSteps: 4 }).finally(() => trainer.close());
    expect(resumed.history.evals.map((e) => e.losses)).toEqual(report.history.evals.map((e) => e.losses));
    expect(resumed.history.decisions.map((d) => [d.slopes, d.weights])).toEqual(report.history.decisions.map((d) => [d.slopes, d.weights]));
    expect(resumed.history.train.map((t) => t.meanLoss)).toEqual(report.history.train.map((t) => t.meanLoss));
    expect(resumed.test).toEqual(report.test);
  });
});
