// Probing exactly as METHOD §2, checked on the SyntheticTrainer test double: slopes are ΔL/c_t on the
// probe set, c_t = min(H_t, c_max), the anchor is recycled when an update meets a regular
// evaluation, and probing leaves the main run's parameters, optimizer state and data order untouched.
import { beforeAll, describe, expect, it } from 'vitest';
import { createMixtureSolver, type DefaultMixtureSolver } from '../../../src/main/mixture/solver';
import { runExperiment } from '../../../src/main/runner/experiment';
import type { RunEvent } from '../../../src/main/runner/events';
import type { RestoreScope, TrainerSnapshot } from '../../../src/main/runner/trainer';
import { switchingScenario, switchingConfig, switchingTrainer } from './scenarios';
import { SyntheticTrainer, syntheticOptionsFrom } from './synthetic-trainer';

let solver: DefaultMixtureSolver;
beforeAll(async () => {
  solver = await createMixtureSolver();
});

/** Runs DynaMiCS and records the trainer's fingerprint at every checkpoint. */
async function runRecording(trainer: SyntheticTrainer, config = switchingConfig()) {
  const fingerprints = new Map<number, ReturnType<SyntheticTrainer['fingerprint']>>();
  const report = await runExperiment(config, trainer, solver, {
    onEvent: (e: RunEvent) => {
      if (e.type === 'checkpoint') fingerprints.set(e.step, trainer.fingerprint());
    },
  });
  return { report, fingerprints };
}

/** Trains a fresh trainer on the mixtures the run used, with no probing at all. */
async function replayWithoutProbes(config: ReturnType<typeof switchingConfig>, segments: { start: number; end: number; weights: number[] }[], at: number[]) {
  const replay = switchingTrainer(config);
  const fingerprints = new Map<number, ReturnType<SyntheticTrainer['fingerprint']>>();
  let step = 0;
  for (const s of segments) {
    for (const stop of [...at.filter((x) => x > s.start && x <= s.end), s.end]) {
      if (stop <= step) continue;
      await replay.train({ steps: stop - step, mixture: s.weights, stream: 'main' });
      step = stop;
      if (at.includes(step)) fingerprints.set(step, replay.fingerprint());
    }
  }
  return { replay, fingerprints };
}

/** A trainer whose 'model' restore forgets the optimizer state: the negative control. */
class LeakyTrainer extends SyntheticTrainer {
  override async restore(snapshot: TrainerSnapshot, scope: RestoreScope): Promise<void> {
    const velocity = this.fingerprint().velocity;
    await super.restore(snapshot, scope);
    (this as unknown as { s: { velocity: number[] } }).s.velocity = velocity;
  }
}

describe('probing', () => {
  it('leaves parameters, optimizer state and data order exactly as a run without probes', async () => {
    const config = switchingConfig();
    const trainer = switchingTrainer(config);
    const { report, fingerprints } = await runRecording(trainer, config);
    expect(report.history.decisions.length).toBe(6);
    const segments = (report.history.decisions.map((d, k, all) => ({ start: d.step, end: all[k + 1]?.step ?? config.training.steps, weights: d.weights })));
    const steps = [...fingerprints.keys()];
    const { replay, fingerprints: replayed } = await replayWithoutProbes(config, segments, steps);
    for (const s of steps) expect(fingerprints.get(s), `step ${s}`).toEqual(replayed.get(s));
    expect(trainer.mainOrder).toEqual(replay.mainOrder);
    // Probing did happen, on the probe streams, and released every snapshot.
    expect(trainer.calls.train.probe).toBe(6 * 4);
    expect(trainer.probeStreams()).not.toEqual(replay.probeStreams());
    expect(trainer.liveSnapshots).toBe(0);
  });

  it('would notice a trainer that leaks probe updates into the optimizer state (negative control)', async () => {
    const config = switchingConfig();
    const leaky = new LeakyTrainer(switchingScenario, syntheticOptionsFrom(config));
    const { report, fingerprints } = await runRecording(leaky, config);
    const segments = report.history.decisions.map((d, k, all) => ({ start: d.step, end: all[k + 1]?.step ?? config.training.steps, weights: d.weights }));
    const { fingerprints: replayed } = await replayWithoutProbes(config, segments, [...fingerprints.keys()]);
    expect(fingerprints.get(32)).not.toEqual(replayed.get(32));
  });

  it('measures S_ij = ΔL/c on the probe set, with c = min(H, c_max)', async () => {
    // Noiseless dynamics, so the expected change can be simulated independently.
    const scenario = { ...switchingScenario, gradientNoise: 0, batchSpread: 0 };
    const config = switchingConfig({ dynamics: { probeCap: 16, schedule: { kind: 'preset', preset: 'none' } } });
    const trainer = new SyntheticTrainer(scenario, syntheticOptionsFrom(config));
    const report = await runExperiment(config, trainer, solver);
    expect(report.history.decisions.map((d) => [d.step, d.horizon, d.probeSteps])).toEqual([
      [0, 8, 8],
      [8, 8, 8],
      [16, 16, 16],
      [32, 32, 16],
      [64, 64, 16],
      [128, 128, 16],
    ]);
    expect(report.cost.forwardEquivalents.probeTraining).toBe(4 * (8 + 8 + 16 * 4) * 3);
    // Step 0: θ = θ0, velocity 0; c = 8 steps of momentum SGD on source j alone.
    const first = report.history.decisions[0]!;
    const lr = config.training.learningRate;
    scenario.sources.forEach((src, j) => {
      let theta = [...scenario.theta0];
      let v = theta.map(() => 0);
      for (let t = 0; t < 8; t++) {
        const g = theta.map((x, k) => (src.curvature[k] as number) * (x - (src.optimum[k] as number)));
        v = v.map((vk, k) => 0.5 * vk + (g[k] as number));
        theta = theta.map((x, k) => x - lr * (v[k] as number));
      }
      scenario.domains.forEach((_, i) => {
        const expected = (trainer.trueLoss(i, theta) - trainer.trueLoss(i, scenario.theta0)) / 8;
        expect((first.slopes as number[][])[i]?.[j], `S[${i}][${j}]`).toBeCloseTo(expected, 12);
      });
    });
  });

  it('recycles the anchor when an update meets a regular evaluation, and evaluates it otherwise', async () => {
    // Updates 0, 8, 16, 32, 64, 128 and evaluations every 32 steps: recycled at 0, 32, 64, 128.
    const config = switchingConfig();
    const trainer = switchingTrainer(config);
    const report = await runExperiment(config, trainer, solver);
    expect(report.history.decisions.map((d) => d.anchorRecycled)).toEqual([true, false, false, true, true, true]);
    expect(trainer.calls.evaluate.probe).toBe(2 + 6 * 4);
    expect(report.cost.forwardEquivalents.anchorEval).toBe(2 * 4 * 10);
    // A recycled anchor is the regular evaluation's loss at that step (the references' scale).
    const at32 = report.history.decisions.find((d) => d.step === 32)!;
    expect(at32.losses).toEqual(report.history.evals.find((e) => e.step === 32)!.losses);
  });

  it('probes around the current mixture with mixture-local slopes', async () => {
    const config = switchingConfig({ beyondPaper: { localSlopes: { enabled: true, epsilon: 0.5 } } });
    const trainer = switchingTrainer(config);
    const report = await runExperiment(config, trainer, solver);
    // The first update probes around uniform; the second around the first decision.
    expect(trainer.probeMixtures.slice(0, 4)).toEqual([
      [0.625, 0.125, 0.125, 0.125],
      [0.125, 0.625, 0.125, 0.125],
      [0.125, 0.125, 0.625, 0.125],
      [0.125, 0.125, 0.125, 0.625],
    ]);
    const w0 = report.history.decisions[0]!.weights;
    trainer.probeMixtures.slice(4, 8).forEach((mix, j) => mix.forEach((x, k) => expect(x).toBeCloseTo(0.5 * (w0[k] as number) + (k === j ? 0.5 : 0), 12)));
    expect(report.feasible).toBe(true);
  });
});
