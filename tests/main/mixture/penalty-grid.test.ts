// The paper's penalty-grid solver against the exact LP on feasible problems in the paper's regime
// (losses around 1 to 4, slopes around 1e-3 per step, horizons 16 to 256 steps).
//
// Stated tolerance: the grid's best candidate has ε ∈ {0, 0.05, 0.1} and finite λ, so it cannot beat
// the LP with no margin, and it must do at least as well as the LP with a 0.05 margin (its
// (λ = 5000, ε = 0.05) candidate approximates that program from the slightly looser side). We check
//   LP(ε=0).objective − 1e-12  ≤  grid.objective  ≤  LP(ε=0.05).objective + 1e-9 + 1e-6·|objective|
// and that the grid's mixture meets every constraint. Where no constraint binds at the LP optimum,
// both must land on the same objective (1e-9 + 1e-6 relative).
import { beforeAll, describe, expect, it } from 'vitest';
import { GlpkBackend } from '../../../src/main/mixture/glpk-backend';
import { solveMixtureLp } from '../../../src/main/mixture/lp-solver';
import { PENALTY_LAMBDAS, solvePenaltyGrid } from '../../../src/main/mixture/penalty-grid';
import type { DomainRole, MixtureProblem } from '../../../src/main/mixture/problem';

function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function paperRegimeProblem(seed: number): MixtureProblem {
  const u = rng(seed);
  const n = 2 + Math.floor(u() * 4);
  const m = 2 + Math.floor(u() * 5);
  const horizon = [16, 64, 256][Math.floor(u() * 3)] as number;
  const roles: DomainRole[] = Array.from({ length: m }, (_, i) => (i === 0 ? 'target' : i === 1 ? 'constraint' : u() < 0.3 ? 'target' : u() < 0.8 ? 'constraint' : 'monitor'));
  const slopes = roles.map(() => Array.from({ length: n }, () => (u() * 2 - 1) * 2e-3));
  const losses = roles.map(() => 1 + 3 * u());
  const references = roles.map((role, i) => {
    if (role !== 'constraint') return null;
    const row = slopes[i] as number[];
    const lo = Math.min(...row);
    const hi = Math.max(...row);
    return (losses[i] as number) + horizon * (lo + 0.6 * u() * (hi - lo)) + 0.06;
  });
  return { slopes, losses, references, roles, horizon };
}

let backend: GlpkBackend;
beforeAll(async () => {
  backend = await GlpkBackend.create();
});

describe('penalty grid', () => {
  it('has the paper grid: 15 λ log-spaced over [1, 5000]', () => {
    expect(PENALTY_LAMBDAS).toHaveLength(15);
    expect(PENALTY_LAMBDAS[0]).toBe(1);
    expect(PENALTY_LAMBDAS[14]).toBeCloseTo(5000, 9);
    expect((PENALTY_LAMBDAS[1] as number) / (PENALTY_LAMBDAS[0] as number)).toBeCloseTo((PENALTY_LAMBDAS[14] as number) / (PENALTY_LAMBDAS[13] as number), 12);
  });

  it('agrees with the LP on 40 feasible problems within the stated tolerance', () => {
    let compared = 0;
    let unbound = 0;
    let bound = 0;
    for (let seed = 1; compared < 40; seed++) {
      const p = paperRegimeProblem(seed);
      const lp0 = solveMixtureLp(p, backend);
      const lp05 = solveMixtureLp({ ...p, margin: 0.05 }, backend);
      if (lp05.status !== 'feasible') continue;
      compared++;
      const grid = solvePenaltyGrid(p);
      expect(grid.status, `seed ${seed}`).toBe('feasible');
      expect(grid.marginGap).toBeLessThanOrEqual(1e-9);
      expect(grid.objective).toBeGreaterThanOrEqual(lp0.objective - 1e-12);
      expect(grid.objective, `seed ${seed}`).toBeLessThanOrEqual(lp05.objective + 1e-9 + 1e-6 * Math.abs(lp05.objective));
      if (lp0.binding.length === 0) {
        unbound++;
        expect(Math.abs(grid.objective - lp0.objective)).toBeLessThanOrEqual(1e-9 + 1e-6 * Math.abs(lp0.objective));
      } else bound++;
    }
    // Both regimes occur: constraints binding at the LP optimum, and none binding.
    expect(unbound).toBeGreaterThan(5);
    expect(bound).toBeGreaterThan(5);
  });

  it('falls back to the smallest largest violation when no candidate meets the constraints', () => {
    const p: MixtureProblem = {
      slopes: [
        [-1e-3, 0],
        [2e-3, 1e-3],
      ],
      losses: [2, 2],
      references: [null, 2],
      roles: ['target', 'constraint'],
      horizon: 64,
    };
    const grid = solvePenaltyGrid(p);
    expect(grid.status).toBe('infeasible');
    // Any mixture raises the constraint; the least raise is all weight on source 2 (64 · 1e-3).
    expect(grid.weights[1]).toBeGreaterThan(0.999);
    expect(grid.maxViolation).toBeCloseTo(0.064, 4);
    expect(grid.penalty).toBeDefined();
  });
});
