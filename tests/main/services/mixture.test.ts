// mixture.*: the what-if panel re-solves a recorded decision with the solver training used. The
// decisions come from a real loop over SyntheticTrainer (a test double of the Trainer interface)
// written by the StoreSink; re-solving the recorded problem must give the mixture the run chose,
// with the paper's method and with the controller's own terms (calibration, chance constraints,
// trust region, fallback).
import { beforeAll, describe, expect, it } from 'vitest';
import { createMixtureSolver } from '../../../src/main/mixture/solver';
import type { MixtureDecision } from '../../../src/shared/mixture';
import { beyondPaperSchema } from '../../../src/shared/run-config';
import type { WhatIfProblem } from '../../../src/shared/services/mixture';
import type { RunDecisions } from '../../../src/shared/services/runs';
import { testCore } from './helpers';
import { recordSyntheticRun } from './recorded-runs';

describe('mixture service', () => {
  const core = testCore();
  let dyn: number;
  let fixed: number;
  let calibrated: number;

  beforeAll(async () => {
    dyn = await recordSyntheticRun(core.store, core.layout.runs, { name: 'adaptive' });
    calibrated = await recordSyntheticRun(core.store, core.layout.runs, { name: 'product default', beyondPaper: beyondPaperSchema.parse({}), dynamics: { schedule: { kind: 'interval', every: 8 } } });
    fixed = await recordSyntheticRun(core.store, core.layout.runs, { name: 'fixed', strategy: { kind: 'fixed-uniform', targetMass: 0.5 } });
  });

  it('solves a problem exactly as the loop\'s solver does', async () => {
    const problem = { slopes: [[-0.02, -0.001], [0.01, -0.002]], losses: [2, 1.5], references: [null, 1.5], roles: ['target', 'constraint'] as const, horizon: 10 };
    const got = await core.call<MixtureDecision>('mixture.solve', { problem });
    const direct = (await createMixtureSolver()).solve({ ...problem, roles: [...problem.roles] }, 'lp');
    expect(got).toEqual(direct);
    const grid = await core.call<MixtureDecision>('mixture.solve', { problem, solver: 'penalty-grid' });
    expect(grid.solver).toBe('penalty-grid');
    expect((await core.fail('mixture.solve', { problem: { ...problem, references: [null, null] } })).message).toMatch(/references\[1\] must be a number because domain 1 is a constraint/);
  });

  it('rebuilds every recorded decision so that re-solving gives the mixture the run decided', async () => {
    const recorded = await core.call<RunDecisions>('runs.decisions', { id: dyn });
    const adaptive = recorded.decisions.filter((d) => d.status !== 'fixed');
    expect(adaptive.length).toBeGreaterThan(1);
    for (const d of adaptive) {
      const w = await core.call<WhatIfProblem>('mixture.problemOf', { runId: dyn, step: d.step });
      expect(w.problem.roles).toEqual(['target', 'constraint', 'constraint', 'monitor']);
      expect(w.problem.references[0]).toBeNull();
      expect(w.baseLosses).toEqual(recorded.baseLosses);
      expect(w.recorded).toEqual(d);
      const again = await core.call<MixtureDecision>('mixture.solve', { problem: w.problem, solver: w.solver });
      const decided = (d.solver as { decidedWeights: number[] }).decidedWeights;
      again.weights.forEach((x, j) => expect(x).toBeCloseTo(decided[j]!, 9));
      expect(again.status).toBe(d.status);
    }
  });

  it('rebuilds the product default\'s decisions with the calibrated model and the controller\'s terms, and keeps the uncalibrated one beside it', async () => {
    const recorded = await core.call<RunDecisions>('runs.decisions', { id: calibrated });
    expect(recorded.outcomes.length).toBeGreaterThan(0);
    let scaled = 0;
    for (const d of recorded.decisions) {
      const w = await core.call<WhatIfProblem>('mixture.problemOf', { runId: calibrated, step: d.step });
      const cal = (d.solver as { calibration: { scale: number[]; stdErrors: (number | null)[] } }).calibration;
      const slopeStdErrors = (d.solver as { slopeStdErrors: number[][] }).slopeStdErrors;
      expect(w.model.calibration).toEqual(cal);
      expect(w.model.chanceK).toBe(1);
      expect(w.model.trustRadius).toBe(0.5);
      expect(w.model.fallbackStandardErrors).toBe(1);
      expect(w.problem.uncertainty?.k).toBe(1);
      // The chance constraints' noise: a domain's calibration residuals once it has them, else its probes' slope noise, scaled as its slopes are.
      cal.stdErrors.forEach((se, i) => {
        expect(w.problem.uncertainty!.changeStdErrors[i]).toBe(se ?? 0);
        w.problem.uncertainty!.slopeStdErrors[i]!.forEach((x, j) => expect(x).toBeCloseTo(se === null ? slopeStdErrors[i]![j]! * cal.scale[i]! : 0, 12));
      });
      expect(w.problem.fallbackSlack).toBeGreaterThan(0);
      // The trust region is centred on the mixture in force: the previous decision's, uniform at first.
      const previous = recorded.decisions.filter((x) => x.step < d.step).at(-1);
      expect(w.problem.trustRegion?.center).toEqual(previous ? previous.weights : recorded.sources.map(() => 1 / recorded.sources.length));
      w.problem.slopes.forEach((row, i) => row.forEach((s, j) => expect(s).toBeCloseTo(d.slopes![i]![j]! * cal.scale[i]!, 12)));
      expect(w.uncalibrated?.slopes).toEqual(d.slopes);
      if (cal.scale.some((b) => Math.abs(b - 1) > 1e-6)) scaled++;
      // Re-solved as the run solved it, the calibrated problem gives the mixture the run decided.
      const again = await core.call<MixtureDecision>('mixture.solve', { problem: w.problem, solver: w.solver });
      const decided = (d.solver as { decidedWeights: number[] }).decidedWeights;
      again.weights.forEach((x, j) => expect(x).toBeCloseTo(decided[j]!, 9));
      expect(again.status).toBe(d.status);
      again.predicted.forEach((x, i) => expect(x).toBeCloseTo(d.predicted![i]!, 9));
    }
    // Later decisions had measurements to fit: at least one was solved with slopes scaled away from 1.
    expect(scaled).toBeGreaterThan(0);
  });

  it('re-solves decisions of the paper\'s method without the controller\'s terms', async () => {
    const d = (await core.call<RunDecisions>('runs.decisions', { id: dyn })).decisions[1]!;
    const w = await core.call<WhatIfProblem>('mixture.problemOf', { runId: dyn, step: d.step });
    expect(w.model).toEqual({ calibration: null, chanceK: null, trustRadius: null, fallbackStandardErrors: null });
    expect(w.uncalibrated).toBeNull();
    expect(w.problem.uncertainty).toBeUndefined();
    expect(w.problem.trustRegion).toBeUndefined();
  });

  it('answers what-ifs: a tighter margin or a constraint turned monitor changes the mixture', async () => {
    const step = (await core.call<RunDecisions>('runs.decisions', { id: dyn })).decisions[0]!.step;
    const w = await core.call<WhatIfProblem>('mixture.problemOf', { runId: dyn, step });
    const base = await core.call<MixtureDecision>('mixture.solve', { problem: w.problem });
    const loose = { ...w.problem, roles: ['target', 'monitor', 'monitor', 'monitor'], references: [null, null, null, null] };
    const free = await core.call<MixtureDecision>('mixture.solve', { problem: loose });
    expect(free.objective).toBeLessThanOrEqual(base.objective + 1e-12);
    expect(free.binding).toEqual([]);
    const strict = await core.call<MixtureDecision>('mixture.solve', { problem: { ...w.problem, margin: 10 } });
    expect(strict.status).toBe('infeasible');
  });

  it('refuses decisions that have nothing to re-solve, in words', async () => {
    expect((await core.fail('mixture.problemOf', { runId: fixed, step: 0 })).message).toMatch(/fixed mixture/);
    expect((await core.fail('mixture.problemOf', { runId: dyn, step: 3 })).message).toMatch(/no decision at step 3 \(its decisions are at steps 0/);
    expect((await core.fail('mixture.problemOf', { runId: 12345, step: 0 })).name).toBe('NotFound');
  });
});
