// What-if against a real core: a recorded decision's problem from the store, re-solved by the real
// GLPK solver as roles, references and the margin are edited, beside what the run recorded.
import { beforeAll, describe, expect, it } from 'vitest';
import { useWhatIfStore } from '../../src/renderer/src/stores/whatIf';
import WhatIfView from '../../src/renderer/src/views/WhatIfView.vue';
import { seedRun } from './seed';
import { mountView, settle, storeContext, testCore, until } from './setup';

const { core, api } = testCore();
let runId = 0;
let fixedId = 0;

beforeAll(() => {
  runId = seedRun(core, { name: 'dynamics' });
  fixedId = seedRun(core, { name: 'uniform', strategy: 'fixed-uniform' });
});

describe('what-if store', () => {
  it('lists runs with decisions to re-solve and solves the recorded problem as it was', async () => {
    const ctx = storeContext(api);
    const w = ctx.run(() => useWhatIfStore());
    await w.loadCandidates();
    expect(w.candidates.map((r) => r.id)).toEqual([runId]);
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
});
