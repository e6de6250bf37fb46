// The options beyond the paper, each off by default (METHOD §9), on the SyntheticTrainer test
// double: smoothing (EMA, trust region), the noise-aware margin, and backtracking.
import { beforeAll, describe, expect, it } from 'vitest';
import { createMixtureSolver, type DefaultMixtureSolver } from '../../../src/main/mixture/solver';
import { runExperiment } from '../../../src/main/runner/experiment';
import type { RunEvent } from '../../../src/main/runner/events';
import { switchingConfig, switchingTrainer } from './scenarios';

let solver: DefaultMixtureSolver;
beforeAll(async () => {
  solver = await createMixtureSolver();
});

const l1 = (a: readonly number[], b: readonly number[]) => a.reduce((s, x, j) => s + Math.abs(x - (b[j] as number)), 0);

describe('beyond the paper', () => {
  it('smooths decisions with an exponential average', async () => {
    const config = switchingConfig({ beyondPaper: { smoothing: { kind: 'ema', decay: 0.5 } } });
    const report = await runExperiment(config, switchingTrainer(config), solver);
    const ds = report.history.decisions;
    expect(ds[0]?.weights).toEqual(ds[0]?.decidedWeights);
    for (let k = 1; k < ds.length; k++) {
      ds[k]!.weights.forEach((w, j) => expect(w).toBeCloseTo(0.5 * (ds[k - 1]!.weights[j] as number) + 0.5 * (ds[k]!.decidedWeights[j] as number), 12));
    }
    expect(ds.some((d, k) => k > 0 && l1(d.weights, d.decidedWeights) > 0.1)).toBe(true);
  });

  it('keeps each decision within an L1 trust region of the previous one', async () => {
    const config = switchingConfig({ beyondPaper: { smoothing: { kind: 'trust-region', radius: 0.3 } } });
    const report = await runExperiment(config, switchingTrainer(config), solver);
    const ds = report.history.decisions;
    for (let k = 1; k < ds.length; k++) expect(l1(ds[k]!.weights, ds[k - 1]!.weights)).toBeLessThanOrEqual(0.3 + 1e-7);
    // Without it the controller jumps from the fast source to the slow one in one decision.
    const free = await runExperiment(switchingConfig(), switchingTrainer(switchingConfig()), solver);
    expect(Math.max(...free.history.decisions.slice(1).map((d, k) => l1(d.weights, free.history.decisions[k]!.weights)))).toBeGreaterThan(1);
  });

  it('tightens constraints by k standard errors with the noise-aware margin', async () => {
    const plain = await runExperiment(switchingConfig(), switchingTrainer(switchingConfig()), solver);
    const config = switchingConfig({ beyondPaper: { noiseAwareMargin: { enabled: true, k: 3 } } });
    const noisy = await runExperiment(config, switchingTrainer(config), solver);
    // Same state at step 0, same slopes; the tightened decision leaves more headroom on c1.
    const [p0, n0] = [plain.history.decisions[0]!, noisy.history.decisions[0]!];
    expect(n0.slopes).toEqual(p0.slopes);
    const ref = plain.references.references[1] as number;
    const headroom = (d: typeof p0) => ref - (d.predicted as number[])[1]!;
    expect(headroom(n0)).toBeGreaterThanOrEqual(headroom(p0));
    expect(noisy.history.decisions.some((d, k) => headroom(d) > headroom(plain.history.decisions[k]!) + 1e-6)).toBe(true);
    expect(noisy.history.decisions[0]?.slopeStdErrors?.[1]?.some((x) => x > 0)).toBe(true);
  });

  it('backtracks to the last feasible checkpoint on a violated constraint, learns a margin, and re-decides', async () => {
    // One-step probes underestimate momentum's effect about twofold, so decisions overshoot c1.
    const base = { seed: 0, dynamics: { probeCap: 1 } };
    const without = await runExperiment(switchingConfig(base), switchingTrainer(switchingConfig(base)), solver);
    expect(without.history.evals.some((e) => e.worstExcess > 0)).toBe(true);

    const config = switchingConfig({ ...base, beyondPaper: { backtracking: { enabled: true, maxBacktracks: 2 } } });
    const trainer = switchingTrainer(config);
    const events: RunEvent[] = [];
    const report = await runExperiment(config, trainer, solver, { onEvent: (e) => events.push(e) });
    const backtracks = report.history.backtracks;
    expect(backtracks.length).toBeGreaterThanOrEqual(1);
    expect(backtracks.length).toBeLessThanOrEqual(2);
    const first = backtracks[0]!;
    expect(first.toStep).toBeLessThan(first.fromStep);
    expect(first.violated).toEqual([1]);
    // The overshoot became c1's margin, and the next decision (at the checkpoint's step) used it.
    const overshoot = report.history.evals.find((e) => e.step === first.fromStep)!;
    expect(first.extraMargins[1]).toBeCloseTo((overshoot.losses[1] as number) - (report.references.references[1] as number), 12);
    const redo = report.history.decisions.find((d) => d.step === first.toStep && d.extraMargins[1]! > 0);
    expect(redo).toBeDefined();
    // The trainer went back (a checkpoint at step 0 exists for that), and the abandoned branch is
    // not a candidate for selection.
    expect(trainer.calls.load).toBeGreaterThanOrEqual(backtracks.length);
    expect(report.history.evals.some((e) => e.abandoned)).toBe(true);
    const chosen = report.history.evals.find((e) => e.step === report.test.selectedStep && !e.abandoned);
    if (report.feasible) expect(chosen?.feasible).toBe(true);
    expect(events.filter((e) => e.type === 'backtrack')).toHaveLength(backtracks.length);
    // Time-averaged weights describe the live trajectory only (they sum to 1 over 256 steps).
    expect(report.timeAveragedWeights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });
});
