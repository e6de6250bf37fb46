// EngineTrainer on real ONNX Runtime sessions and the data layer: snapshot/restore is exact
// (parameters, Adam state, probe stream positions), probing never moves the main streams, a
// checkpoint continues bit for bit, update directions equal the step AdamW then takes, and
// evaluation batches of any size give the same losses as the session's own batch size.
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrtRuntime } from '../../../src/main/engine/runtime/ort-runtime';
import { createMixtureSolver } from '../../../src/main/mixture/solver';
import { resourcesDir } from '../../../src/main/paths';
import { FolderCheckpointStorage } from '../../../src/main/runner/checkpoint-storage';
import { loadRunConfigFile } from '../../../src/main/runner/config-file';
import { PreparedRun, type EngineEnvironment } from '../../../src/main/runner/engine-setup';
import type { EngineTrainer } from '../../../src/main/runner/engine-trainer';
import { runExperiment } from '../../../src/main/runner/experiment';
import type { CheckpointRef } from '../../../src/main/runner/trainer';
import { parseRunConfig, type RunConfig } from '../../../src/shared/run-config';
import { tempDir } from '../../helpers/temp';
import { writeTinyCorpora, writeTinyModel } from './tiny-fixtures';

const dir = tempDir('dynamics-engine-trainer-');
const storage = new FolderCheckpointStorage(path.join(dir, 'checkpoints'));
let config: RunConfig;
let env: EngineEnvironment;
let prepared: PreparedRun;
const opened: PreparedRun[] = [];

beforeAll(async () => {
  writeTinyModel(path.join(dir, 'tiny-model'));
  writeTinyCorpora(path.join(dir, 'corpora'), ['code', 'email', 'licenses', 'dictionary'], { train: 16, eval: 4, test: 4 });
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
  opened.push(prepared);
});

afterAll(() => opened.forEach((p) => p.close()));

const W = [0.5, 0.3, 0.2];
const oneHot = (j: number) => [0, 1, 2].map((k) => (k === j ? 1 : 0));

/** Everything a checkpoint holds, as comparable data: payload bytes and meta (Adam step, streams). */
async function fullState(trainer: EngineTrainer, step: number): Promise<{ payload: Buffer; meta: unknown }> {
  const ref = await trainer.saveCheckpoint(step);
  const { meta, payload } = await storage.load(ref);
  return { payload: Buffer.from(payload), meta };
}

async function stepLosses(trainer: EngineTrainer, steps: number, mixture: number[], stream: 'main' | 'probe' = 'main'): Promise<number[]> {
  const out: number[] = [];
  for (let s = 0; s < steps; s++) out.push((await trainer.train({ steps: 1, mixture, stream })).meanLoss);
  return out;
}

describe('EngineTrainer', () => {
  it('restores parameters, Adam state and probe streams bit for bit after a probe, and never moves the main streams', async () => {
    const trainer = await prepared.createTrainer(config, storage);
    try {
      await trainer.train({ steps: 3, mixture: W, stream: 'main' });
      const before = await fullState(trainer, 3);
      const snap = await trainer.snapshot();
      const probeLosses = await stepLosses(trainer, 3, oneHot(1), 'probe');
      const afterProbe = await fullState(trainer, 3);
      expect(afterProbe.payload.equals(before.payload)).toBe(false);
      const m0 = before.meta as { main: { streams: Record<string, { main: unknown }>; rng: unknown }; probe: unknown };
      const m1 = afterProbe.meta as typeof m0;
      // Probing drew from the probe streams only: every main stream and the main generator are where they were.
      expect(Object.fromEntries(Object.entries(m1.main.streams).map(([k, v]) => [k, v.main]))).toEqual(Object.fromEntries(Object.entries(m0.main.streams).map(([k, v]) => [k, v.main])));
      expect(m1.main.rng).toEqual(m0.main.rng);
      expect(m1.probe).not.toEqual(m0.probe);

      await trainer.restore(snap, 'all');
      const restored = await fullState(trainer, 3);
      expect(restored.payload.equals(before.payload)).toBe(true);
      expect(restored.meta).toEqual(before.meta);
      // The same probe again sees the same batches and gives the same losses.
      expect(await stepLosses(trainer, 3, oneHot(1), 'probe')).toEqual(probeLosses);

      // 'model' puts back parameters and optimizer but leaves the probe streams advanced.
      await trainer.restore(snap, 'model');
      const modelOnly = await fullState(trainer, 3);
      expect(modelOnly.payload.equals(before.payload)).toBe(true);
      expect((modelOnly.meta as typeof m0).probe).not.toEqual(m0.probe);
      await trainer.release(snap);
      await expect(trainer.restore(snap, 'all')).rejects.toThrow(/released/);
    } finally {
      await trainer.close();
    }
  });

  it('continues from a checkpoint exactly as the uninterrupted trainer does', async () => {
    const a = await prepared.createTrainer(config, storage);
    let ref: CheckpointRef;
    let expected: number[];
    let expectedEval: number[];
    try {
      await a.train({ steps: 4, mixture: W, stream: 'main' });
      // A probe in between, as the loop does: its stream positions are part of the checkpoint.
      const snap = await a.snapshot();
      await a.train({ steps: 2, mixture: oneHot(2), stream: 'probe' });
      await a.restore(snap, 'model');
      await a.release(snap);
      ref = await a.saveCheckpoint(4);
      expected = [...(await stepLosses(a, 4, [0.1, 0.1, 0.8])), ...(await stepLosses(a, 2, oneHot(0), 'probe'))];
      expectedEval = (await a.evaluate('probe')).map((d) => d.loss);
    } finally {
      await a.close();
    }
    const b = await prepared.createTrainer(config, storage);
    try {
      await b.loadCheckpoint(ref);
      expect([...(await stepLosses(b, 4, [0.1, 0.1, 0.8])), ...(await stepLosses(b, 2, oneHot(0), 'probe'))]).toEqual(expected);
      expect((await b.evaluate('probe')).map((d) => d.loss)).toEqual(expectedEval);
      // A damaged reference is refused, not loaded.
      await expect(b.loadCheckpoint({ step: 4, id: ref.id.replace(/#[0-9a-f]/, '#0') })).rejects.toThrow(/cannot be used/);
    } finally {
      await b.close();
    }
  });

  it('gives update directions equal to the step AdamW takes on the same probe batch', async () => {
    const trainer = await prepared.createTrainer(config, storage);
    try {
      await trainer.train({ steps: 2, mixture: W, stream: 'main' });
      const snap = await trainer.snapshot();
      const dirs = await trainer.updateDirections();
      expect(dirs).toHaveLength(3);
      const lr = dirs[0]!.learningRate;
      expect(lr).toBe(config.training.learningRate);
      for (let j = 0; j < 3; j++) {
        await trainer.restore(snap, 'all');
        const theta0 = Float32Array.from(trainer.parameters().flatMap((t) => [...t.data]));
        await trainer.train({ steps: 1, mixture: oneHot(j), stream: 'probe' });
        const theta1 = Float32Array.from(trainer.parameters().flatMap((t) => [...t.data]));
        const d = dirs[j]!.direction;
        expect(d.length).toBe(theta0.length);
        let worst = 0;
        let scale = 0;
        for (let i = 0; i < d.length; i++) {
          worst = Math.max(worst, Math.abs((theta0[i]! - theta1[i]!) / lr - d[i]!));
          scale = Math.max(scale, Math.abs(d[i]!));
        }
        expect(scale).toBeGreaterThan(0.1);
        // float32 parameters: (θ0 − θ1)/lr carries the rounding of θ divided by lr.
        expect(worst).toBeLessThan(2e-3);
      }
      await trainer.release(snap);
      const g = await trainer.evalGradients();
      expect(g.gradients).toHaveLength(4);
      const probe = await trainer.evaluate('probe');
      g.losses.forEach((l, i) => expect(l.loss).toBeCloseTo(probe[i]!.loss, 5));
      expect(g.gradients.every((x) => x.length === dirs[0]!.direction.length && x.some((v) => v !== 0))).toBe(true);
    } finally {
      await trainer.close();
    }
  });

  it('recomputes layers when the config asks, to the same losses', async () => {
    expect(config.training.recompute).toBe('auto');
    const on = parseRunConfig({ ...config, training: { ...config.training, recompute: 'on' } });
    const p = await PreparedRun.open(on, env);
    opened.push(p);
    const kept = await prepared.createTrainer(config, storage);
    const recomputed = await p.createTrainer(on, storage);
    try {
      expect(kept.graph.recompute).toBe(false);
      expect(recomputed.graph.recompute).toBe(true);
      expect(recomputed.graph.nodes).toBeGreaterThan(kept.graph.nodes);
      const a = await stepLosses(kept, 3, W);
      const b = await stepLosses(recomputed, 3, W);
      b.forEach((loss, i) => expect(loss).toBeCloseTo(a[i]!, 5));
    } finally {
      await kept.close();
      await recomputed.close();
    }
  });

  it('computes in half precision when the config asks, on a float16 model, to nearly the same losses', async () => {
    expect(config.training.halfCompute).toBe('auto');
    writeTinyModel(path.join(dir, 'tiny-model-f16'), { dtype: 'F16' });
    const at = (halfCompute: 'on' | 'off') => parseRunConfig({ ...config, model: { ...config.model, path: path.join(dir, 'tiny-model-f16') }, training: { ...config.training, halfCompute } });
    const [onConfig, offConfig] = [at('on'), at('off')];
    const [p, q] = [await PreparedRun.open(onConfig, env), await PreparedRun.open(offConfig, env)];
    opened.push(p, q);
    const half = await p.createTrainer(onConfig, storage);
    const cast = await q.createTrainer(offConfig, storage);
    try {
      expect(half.graph).toMatchObject({ halfWeights: true, halfCompute: true });
      expect(cast.graph).toMatchObject({ halfWeights: true, halfCompute: false });
      const a = await stepLosses(cast, 3, W);
      const b = await stepLosses(half, 3, W);
      b.forEach((loss, i) => expect(Math.abs(loss - a[i]!) / a[i]!).toBeLessThan(2e-3));
      expect(b).not.toEqual(a);
    } finally {
      await half.close();
      await cast.close();
    }
  });

  it('runs gradient alignment end to end', async () => {
    const ga = parseRunConfig({ ...config, strategy: { kind: 'gradient-alignment' }, training: { ...config.training, steps: 8 }, dynamics: { ...config.dynamics, schedule: { kind: 'list', steps: [0, 4] } } });
    const p = await PreparedRun.open(ga, env);
    opened.push(p);
    const trainer = await p.createTrainer(ga, storage);
    const report = await runExperiment(ga, trainer, await createMixtureSolver()).finally(() => trainer.close());
    expect(report.history.decisions.map((d) => d.step)).toEqual([0, 4]);
    expect(report.history.decisions[0]!.slopes!.flat().some((s) => s !== 0)).toBe(true);
    expect(report.cost.forwardEquivalents.gradients).toBeGreaterThan(0);
  });

  it('evaluates batches of any size to the losses of the session-sized ones', async () => {
    const ref = await prepared.createTrainer(config, storage);
    const base = await ref.evaluate('regular').finally(() => ref.close());
    for (const batchSize of [2, 8]) {
      const regularBatches = (4 * 4) / batchSize;
      const cfg = parseRunConfig({ ...config, evaluation: { ...config.evaluation, batchSize, regularBatches, probeBatches: 1 } });
      const p = await PreparedRun.open(cfg, env);
      opened.push(p);
      const t = await p.createTrainer(cfg, storage);
      const got = await t.evaluate('regular').finally(() => t.close());
      got.forEach((d, i) => {
        expect(d.loss).toBeCloseTo(base[i]!.loss, 5);
        expect(d.batchTokens.reduce((a, b) => a + b, 0)).toBe(base[i]!.batchTokens.reduce((a, b) => a + b, 0));
      });
    }
  });
});
