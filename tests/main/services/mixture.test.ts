// mixture.*: the what-if panel re-solves a recorded decision with the solver training used. The
// decisions come from a real loop over SyntheticTrainer (a test double of the Trainer interface)
// written by the StoreSink; re-solving the recorded problem must give the mixture the run chose.
import { beforeAll, describe, expect, it } from 'vitest';
import { createMixtureSolver } from '../../../src/main/mixture/solver';
import type { MixtureDecision } from '../../../src/shared/mixture';
import type { WhatIfProblem } from '../../../src/shared/services/mixture';
import type { RunDecisions } from '../../../src/shared/services/runs';
import { testCore } from './helpers';
import { recordSyntheticRun } from './recorded-runs';

describe('mixture service', () => {
  const core = testCore();
  let dyn: number;
  let fixed: number;

  beforeAll(async () => {
    dyn = await recordSyntheticRun(core.store, core.layout.runs, { name: 'adaptive' });
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
