// The LP solver (our builder + the glpk.js adapter) against GLPK's own `glpsol`, run on problems
// written as CPLEX-LP text by an independent script (scripts/reference/glpsol-fixtures.ts). The
// fixtures are committed, so this test needs no glpsol.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { GlpkBackend } from '../../../src/main/mixture/glpk-backend';
import { solveMixtureLp } from '../../../src/main/mixture/lp-solver';
import type { MixtureProblem } from '../../../src/main/mixture/problem';

interface Fixture {
  id: string;
  kind: string;
  problem: MixtureProblem;
  glpsol: { status: 'feasible' | 'infeasible'; objective: number | null; minMaxViolation: number | null; leastViolatingObjective: number | null };
}

const doc = JSON.parse(readFileSync(path.join(import.meta.dirname, '../../fixtures/mixture/glpsol-lp.json'), 'utf8')) as { fixtures: Fixture[] };

/** Agreement tolerance: absolute 1e-9 plus 1e-6 relative, on values of size up to ~1e-1. */
const close = (a: number, b: number, rel = 1e-6) => Math.abs(a - b) <= 1e-9 + rel * Math.max(Math.abs(a), Math.abs(b));

let backend: GlpkBackend;
beforeAll(async () => {
  backend = await GlpkBackend.create();
});

describe('mixture LP against glpsol', () => {
  it('has at least 50 problems, feasible and infeasible, some with margins', () => {
    expect(doc.fixtures.length).toBeGreaterThanOrEqual(50);
    expect(doc.fixtures.filter((f) => f.glpsol.status === 'feasible').length).toBeGreaterThanOrEqual(20);
    expect(doc.fixtures.filter((f) => f.glpsol.status === 'infeasible').length).toBeGreaterThanOrEqual(20);
    expect(doc.fixtures.filter((f) => (f.problem.margin ?? 0) > 0).length).toBeGreaterThanOrEqual(10);
  });

  it.each(doc.fixtures.map((f) => [f.id, f] as const))('%s: status, objective and violation agree', (_id, f) => {
    const d = solveMixtureLp(f.problem, backend);
    expect(d.status).toBe(f.glpsol.status);
    expect(d.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(Math.min(...d.weights)).toBeGreaterThanOrEqual(0);
    if (f.glpsol.status === 'feasible') {
      expect(close(d.objective, f.glpsol.objective as number), `objective ${d.objective} vs glpsol ${f.glpsol.objective}`).toBe(true);
      // Feasible means every (tightened) constraint holds at our weights, up to GLPK's tolerance.
      expect(d.marginGap).toBeLessThanOrEqual(1e-7);
      if (f.glpsol.minMaxViolation !== null) expect(f.glpsol.minMaxViolation).toBeLessThan(0);
    } else {
      const vStar = d.minMaxViolation as number;
      expect(close(vStar, f.glpsol.minMaxViolation as number), `v* ${vStar} vs glpsol ${f.glpsol.minMaxViolation}`).toBe(true);
      // The second stage holds v within its tolerance (1e-7 + 1e-6·|v*|) of v*, and both solvers
      // then minimize the same target objective.
      expect(d.marginGap).toBeGreaterThanOrEqual(vStar - 1e-9);
      expect(d.marginGap).toBeLessThanOrEqual(vStar + 1e-7 + 1e-6 * Math.abs(vStar) + 1e-9);
      expect(close(d.objective, f.glpsol.leastViolatingObjective as number), `objective ${d.objective} vs glpsol ${f.glpsol.leastViolatingObjective}`).toBe(true);
    }
    if (f.problem.trustRegion) {
      const { center, radius } = f.problem.trustRegion;
      expect(d.weights.reduce((s, w, j) => s + Math.abs(w - (center[j] as number)), 0)).toBeLessThanOrEqual(radius + 1e-7);
    }
  });
});
