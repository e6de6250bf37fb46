// The LP solver on hand-made problems whose answers are known, its plain-data builder, and its
// handling of degenerate input.
import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../src/shared/errors';
import { GlpkBackend } from '../../../src/main/mixture/glpk-backend';
import { buildMinViolationLp, buildMixtureLp } from '../../../src/main/mixture/lp-model';
import { solveMixtureLp } from '../../../src/main/mixture/lp-solver';
import { solvePenaltyGrid } from '../../../src/main/mixture/penalty-grid';
import type { MixtureProblem } from '../../../src/main/mixture/problem';

let backend: GlpkBackend;
beforeAll(async () => {
  backend = await GlpkBackend.create();
});

// Source 0 helps the target most and hurts the constraint; source 1 helps the constraint.
const base: MixtureProblem = {
  slopes: [
    [-4e-3, -1e-3, 0],
    [3e-3, -1e-3, 1e-3],
    [5e-3, 5e-3, 5e-3],
  ],
  losses: [2.0, 1.5, 3.0],
  references: [null, 1.5, null],
  roles: ['target', 'constraint', 'monitor'],
  horizon: 10,
};

describe('buildMixtureLp', () => {
  it('returns plain data: weights on the simplex, one row per constraint, monitors absent', () => {
    const lp = buildMixtureLp(base);
    expect(JSON.parse(JSON.stringify(lp))).toEqual(lp);
    expect(lp.variables).toEqual([
      { name: 'w1', lower: 0, upper: null },
      { name: 'w2', lower: 0, upper: null },
      { name: 'w3', lower: 0, upper: null },
    ]);
    expect(lp.rows.map((r) => r.name)).toEqual(['c2', 'simplex']);
    // H · S_2 · w ≤ ref − ε − L_2
    expect(lp.rows[0]).toMatchObject({ name: 'c2', lower: null, upper: 0 });
    expect(lp.rows[0]?.terms.map((t) => t.variable)).toEqual(['w1', 'w2', 'w3']);
    lp.rows[0]?.terms.forEach((t, j) => expect(t.coef).toBeCloseTo([0.03, -0.01, 0.01][j] as number, 15));
    // The objective is the target row scaled to unit size: (−4, −1, 0)/4.
    expect(lp.objective.map((t) => t.coef)).toEqual([-1, -0.25, 0]);
    const mv = buildMinViolationLp({ ...base, margin: 0.01 });
    expect(mv.variables.at(-1)).toEqual({ name: 'v', lower: null, upper: null });
    expect(mv.rows[0]?.upper).toBeCloseTo(-0.01, 15);
  });
});

describe('solveMixtureLp', () => {
  it('finds the vertex where the constraint binds', () => {
    // Constraint: 0.03 w1 − 0.01 w2 + 0.01 w3 ≤ 0 with w3 = 0 at the optimum: w1 = 0.25, w2 = 0.75.
    const d = solveMixtureLp(base, backend);
    expect(d.status).toBe('feasible');
    expect(d.weights[0]).toBeCloseTo(0.25, 9);
    expect(d.weights[1]).toBeCloseTo(0.75, 9);
    expect(d.binding).toEqual([1]);
    expect(d.objective).toBeCloseTo(-4e-3 * 0.25 - 1e-3 * 0.75, 12);
    expect(d.predicted[1]).toBeCloseTo(1.5, 9);
    expect(d.predicted[2]).toBeCloseTo(3.05, 9);
    expect(d.maxViolation).toBeCloseTo(0, 9);
  });

  it('applies the margin, and falls back to the least violating mixture when it cannot be met', () => {
    const withMargin = solveMixtureLp({ ...base, margin: 0.005 }, backend);
    expect(withMargin.status).toBe('feasible');
    expect(withMargin.predicted[1]).toBeCloseTo(1.495, 9);
    const tooMuch = solveMixtureLp({ ...base, margin: 0.02 }, backend);
    expect(tooMuch.status).toBe('infeasible');
    // The least the constraint can rise is −0.01 (all on source 2): v* = −0.01 + 0.02.
    expect(tooMuch.minMaxViolation).toBeCloseTo(0.01, 9);
    // Within the second stage's tolerance (1.1e-7 in v), the target pulls a trace toward source 1.
    expect(tooMuch.weights[1]).toBeCloseTo(1, 5);
    expect(tooMuch.maxViolation).toBe(0);
    expect(tooMuch.binding).toEqual([1]);
  });

  it('with a fallback slack, keeps the target moving among mixtures within it of the least violation', () => {
    // v(w) = 0.03·w1 − 0.01·w2 + 0.01·w3 + 0.02 (margin included); v* = 0.01 at w2 = 1. With a slack
    // of 0.006 the largest violation may reach 0.016: 0.04·w1 − 0.01 ≤ −0.004, so w1 ≤ 0.15, and the
    // target (which prefers source 1) takes all of it.
    const d = solveMixtureLp({ ...base, margin: 0.02, fallbackSlack: 0.006 }, backend);
    expect(d.status).toBe('infeasible');
    expect(d.minMaxViolation).toBeCloseTo(0.01, 9);
    expect(d.weights[0]).toBeCloseTo(0.15, 6);
    expect(d.weights[1]).toBeCloseTo(0.85, 6);
    expect(d.marginGap).toBeCloseTo(0.016, 9);
    expect(() => solveMixtureLp({ ...base, fallbackSlack: -1 }, backend)).toThrow('fallbackSlack must be at least 0');
  });

  it('with no target, minimizes the constraints themselves (documented rule)', () => {
    const d = solveMixtureLp({ ...base, roles: ['monitor', 'constraint', 'monitor'] }, backend);
    expect(d.status).toBe('feasible');
    expect(d.weights[1]).toBeCloseTo(1, 9);
  });

  it('handles one source', () => {
    const p: MixtureProblem = { slopes: [[-1e-3], [1e-3]], losses: [2, 1], references: [null, 1.05], roles: ['target', 'constraint'], horizon: 64 };
    const d = solveMixtureLp(p, backend);
    expect(d.weights).toEqual([1]);
    expect(d.status).toBe('infeasible');
    expect(d.maxViolation).toBeCloseTo(0.014, 12);
  });

  it('keeps the mixture inside the trust region', () => {
    const d = solveMixtureLp({ ...base, trustRegion: { center: [0, 0, 1], radius: 0.4 } }, backend);
    expect(Math.abs(d.weights[0] as number) + Math.abs((d.weights[1] as number) - 0) + Math.abs((d.weights[2] as number) - 1)).toBeLessThanOrEqual(0.4 + 1e-9);
    expect(d.weights[2]).toBeCloseTo(0.8, 9);
  });

  it('tightens constraints by k standard errors (noise-aware margin)', () => {
    const uncertainty = { k: 2, changeStdErrors: [0, 0.001, 0], slopeStdErrors: [[0, 0, 0], [5e-4, 5e-4, 0], [0, 0, 0]] };
    const d = solveMixtureLp({ ...base, uncertainty }, backend);
    // 0.002 + 10·(0.03+0.01) w1 ... : (0.04) w1 + (−0.01+0.01) w2 ≤ −0.002 has no solution with w2 alone
    // (0 ≤ −0.002 fails), so the tightened problem is infeasible while the nominal one is not.
    expect(d.status).toBe('infeasible');
    expect(solveMixtureLp(base, backend).status).toBe('feasible');
  });

  it('refuses malformed problems with a sentence naming the field', () => {
    const bad = (patch: Partial<MixtureProblem>) => () => solveMixtureLp({ ...base, ...patch }, backend);
    expect(bad({ slopes: [[NaN, 0, 0], [0, 0, 0], [0, 0, 0]] })).toThrow(/slopes\[0\]\[0\] must be a finite number \(domain 0, source 0\), not NaN/);
    expect(bad({ slopes: [[0, 0, 0], [0, 0], [0, 0, 0]] })).toThrow('slopes[1] has 2 entries but slopes[0] has 3');
    expect(bad({ losses: [1, 2] })).toThrow('losses has 2 entries but roles lists 3 domains');
    expect(bad({ references: [null, null, null] })).toThrow('references[1] must be a number because domain 1 is a constraint');
    expect(bad({ references: [1, 1.5, null] })).toThrow('references[0] must be null because domain 0 is a target');
    expect(bad({ horizon: 0 })).toThrow('horizon must be positive');
    expect(bad({ margin: -1 })).toThrow('margin must be at least 0');
    expect(bad({ roles: ['monitor', 'monitor', 'monitor'], references: [null, null, null] })).toThrow('nothing to decide');
    expect(bad({ slopes: [[], [], []] })).toThrow('at least one column');
    expect(bad({ slopes: [[0, 0, 0], [0, 0, 0], [0, Infinity, 0]] })).toThrow(InvalidInputError);
    expect(() => solvePenaltyGrid({ ...base, trustRegion: { center: [1, 0, 0], radius: 1 } })).toThrow('no trust region');
  });
});
