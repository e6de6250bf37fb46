// What-if against a real core: a recorded decision's problem from the store, re-solved by the real
// GLPK solver as roles, references and the margin are edited, beside what the run recorded; a
// calibrated decision is re-solved with the calibrated model it used, the uncalibrated one a pick away.
import { beforeAll, describe, expect, it } from 'vitest';
import { useWhatIfStore } from '../../src/renderer/src/stores/whatIf';
import WhatIfView from '../../src/renderer/src/views/WhatIfView.vue';
import type { MixtureDecision } from '../../src/shared/mixture';
import type { WhatIfProblem } from '../../src/shared/services/mixture';
import { CALIBRATION_SCALE, seedRun } from './seed';
import { mountView, settle, storeContext, testCore, until } from './setup';

const { core, api } = testCore();
let runId = 0;
let fixedId = 0;
let calibratedId = 0;

beforeAll(() => {
  runId = seedRun(core, { name: 'dynamics' });
  calibratedId = seedRun(core, { name: 'calibrated', calibration: true });
  fixedId = seedRun(core, { name: 'uniform', strategy: 'fixed-uniform' });
});

describe('what-if store', () => {
  it('lists runs with decisions to re-solve and solves the recorded problem as it was', async () => {
    const ctx = storeContext(api);
    const w = ctx.run(() => useWhatIfStore());
    await w.loadCandidates();
    expect(w.candidates.map((r) => r.id)).toEqual([calibratedId, runId]);
    await w.selectRun(runId, 16);
    expect(w.error).toBeNull();
    expect(w.decisionSteps).toEqual([0, 16, 32]);
    expect(w.step).toBe(16);
    expect(w.recorded?.problem.roles).toEqual(['target', 'constraint', 'constraint', 'monitor']);
    expect(w.edited).toBe(false);
    const r = w.result!;
    expect(r.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    // The target is code, which code helps most: unconstrained, the LP puts everything there.
    expect(r.status).toBe('feasible');
  });

  it('re-solves at once when a constraint is loosened, tightened or dropped', async () => {
    const ctx = storeContext(api);
    const w = ctx.run(() => useWhatIfStore());
    await w.selectRun(runId, 16);
    const before = w.result!;
    // Tighten email far below its current loss: no mixture can meet it.
    await w.setReference(1, 1.0);
    expect(w.edited).toBe(true);
    expect(w.result!.status).toBe('infeasible');
    expect(w.result!.maxViolation).toBeGreaterThan(0);
    // Make email a monitor: the solver is free to train on code only.
    await w.setRole(1, 'monitor');
    await w.setRole(2, 'monitor');
    expect(w.result!.status).toBe('feasible');
    expect(w.result!.weights[0]).toBeCloseTo(1, 6);
    // A new constraint takes the base model's loss as its reference, as in a run.
    await w.setRole(3, 'constraint');
    expect(w.references[3]).toBe(3.0);
    await w.reset();
    expect(w.edited).toBe(false);
    expect(w.result!.weights).toEqual(before.weights);
    await w.setMargin(0.5);
    expect(w.result!.status).toBe('infeasible');
  });

  it('re-solves a calibrated decision with the calibrated model it used, and the uncalibrated one on request', async () => {
    const ctx = storeContext(api);
    const w = ctx.run(() => useWhatIfStore());
    await w.selectRun(calibratedId, 16);
    expect(w.error).toBeNull();
    const p = w.recorded!;
    expect(p.model.calibration?.scale).toEqual(CALIBRATION_SCALE);
    expect(p.model).toMatchObject({ chanceK: 1, trustRadius: 0.5, fallbackStandardErrors: 1 });
    // The solver's predictions follow the model it was given: L + H·β_i·S_i·w, then L + H·S_i·w.
    const predictedWith = (r: MixtureDecision, q: WhatIfProblem, scale: readonly number[]) =>
      q.problem.losses.map((l, i) => l + q.problem.horizon * scale[i]! * p.recorded.slopes![i]!.reduce((a, s, j) => a + s * r.weights[j]!, 0));
    expect(w.model).toBe('calibrated');
    const calibrated = w.result!;
    calibrated.predicted.forEach((x, i) => expect(x).toBeCloseTo(predictedWith(calibrated, p, CALIBRATION_SCALE)[i]!, 9));
    // The trust region holds the re-solved mixture near the one in force (the decision at 0: all code).
    expect(Math.abs(1 - calibrated.weights[0]!) + calibrated.weights[1]! + calibrated.weights[2]!).toBeLessThanOrEqual(0.5 + 1e-9);
    await w.setModel('uncalibrated');
    expect(w.edited).toBe(true);
    const raw = w.result!;
    raw.predicted.forEach((x, i) => expect(x).toBeCloseTo(predictedWith(raw, p, [1, 1, 1, 1])[i]!, 9));
    // email binds either way; with its slopes ×1.3 the calibrated model leaves less room for code.
    expect(raw.binding).toEqual([1]);
    expect(raw.weights[0]).toBeGreaterThan(calibrated.weights[0]! + 0.01);
    // The penalty grid has no trust region: the loop gives it none, and neither does the what-if.
    await w.setSolver('penalty-grid');
    expect(w.error).toBeNull();
    expect(w.result!.solver).toBe('penalty-grid');
    await w.reset();
    expect(w.model).toBe('calibrated');
    expect(w.result!.weights).toEqual(calibrated.weights);
  });

  it('explains why a fixed mixture cannot be re-solved', async () => {
    const ctx = storeContext(api);
    const w = ctx.run(() => useWhatIfStore());
    await w.selectRun(fixedId);
    expect(w.error).toMatch(/fixed mixtures have nothing to re-solve/);
  });
});

describe('what-if view', () => {
  it('edits a role and shows the re-solved mixture beside the recorded one', async () => {
    const { wrapper } = await mountView(WhatIfView, api, { path: `/whatif?run=${runId}&step=16` });
    await until(() => wrapper.find('[data-testid="whatif-status"]').exists() && wrapper.find('[data-testid="whatif-chart"] svg').exists());
    expect(wrapper.get('[data-testid="whatif-run"]').element).toHaveProperty('value', String(runId));
    expect(wrapper.get('[data-testid="whatif-step"]').element).toHaveProperty('value', '16');
    expect(wrapper.get('[data-testid="whatif-recorded-weight-code"]').text()).toBe('60.0%');
    expect(wrapper.get('[data-testid="whatif-status"]').text()).toBe('feasible');
    expect(wrapper.find('[data-testid="whatif-chart"] svg').exists()).toBe(true);
    await wrapper.get('[data-testid="whatif-role-email"]').setValue('monitor');
    await wrapper.get('[data-testid="whatif-role-licenses"]').setValue('monitor');
    await until(() => wrapper.get('[data-testid="whatif-weight-code"]').text() === '100.0%');
    expect(wrapper.get('[data-testid="whatif-weight-code"]').text()).toBe('100.0%');
    expect(wrapper.find('[data-testid="whatif-reference-email"]').exists()).toBe(false);
    expect(wrapper.get('[data-testid="whatif-reset"]').attributes('disabled')).toBeUndefined();
    await wrapper.get('[data-testid="whatif-role-email"]').setValue('constraint');
    await settle();
    await wrapper.get('[data-testid="whatif-reference-email"]').setValue('0.5');
    await wrapper.get('[data-testid="whatif-reference-email"]').trigger('change');
    await until(() => wrapper.get('[data-testid="whatif-status"]').text() === 'infeasible');
    expect(wrapper.get('[data-testid="whatif-status"]').text()).toBe('infeasible');
    expect(wrapper.find('[data-testid="whatif-predicted-email"] .error-text').exists()).toBe(true);
    wrapper.unmount();
  });

  it('says which model it solves with: the calibration factors and the run\'s own terms, or the slopes as measured', async () => {
    const { wrapper } = await mountView(WhatIfView, api, { path: `/whatif?run=${calibratedId}&step=32` });
    await until(() => wrapper.find('[data-testid="whatif-status"]').exists() && wrapper.find('[data-testid="whatif-model-note"]').exists());
    const note = () => wrapper.get('[data-testid="whatif-model-note"]').text();
    expect(note()).toContain('Solved with the calibrated model this decision used');
    expect(note()).toContain('fitted on 2 measured decisions');
    expect(note()).toContain('chance constraints 1 standard error below each reference');
    expect(note()).toContain('a trust region of L1 radius 0.5 around the mixture in force');
    expect(note()).toContain('a fallback within 1 standard error of the least violation');
    expect(wrapper.get('[data-testid="whatif-scale-code"]').text()).toBe('×0.70');
    expect(wrapper.get('[data-testid="whatif-scale-email"]').text()).toBe('×1.30');
    await wrapper.get('[data-testid="whatif-model"]').setValue('uncalibrated');
    await until(() => note().includes('slopes as measured'));
    expect(note()).toContain('Solved with the slopes as measured, without the calibration this decision used');
    expect(wrapper.get('[data-testid="whatif-reset"]').attributes('disabled')).toBeUndefined();
    wrapper.unmount();
    // A decision recorded without calibration says so, and offers no other model.
    const older = await mountView(WhatIfView, api, { path: `/whatif?run=${runId}&step=16` });
    await until(() => older.wrapper.find('[data-testid="whatif-model-note"]').exists());
    expect(older.wrapper.get('[data-testid="whatif-model-note"]').text()).toBe('This decision used no calibration: the slopes as measured.');
    expect(older.wrapper.find('[data-testid="whatif-model"]').exists()).toBe(false);
    expect(older.wrapper.find('[data-testid="whatif-scale-code"]').exists()).toBe(false);
    older.wrapper.unmount();
  });
});
