// Checkpoint selection and the test report (METHOD §5).
import { describe, expect, it } from 'vitest';
import { feasibility, selectCheckpoint, testReport, type SelectionContext } from '../../../src/main/mixture/selection';

const ctx: SelectionContext = {
  domainIds: ['t1', 't2', 'c', 'm'],
  roles: ['target', 'target', 'constraint', 'monitor'],
  references: [null, null, 2.0, null],
  baseLosses: [3.0, 2.5, 2.0, 1.0],
};

describe('selection', () => {
  it('counts a checkpoint feasible when constraints hold and the targets improved; never step 0', () => {
    expect(feasibility({ step: 0, losses: [3, 2.5, 2, 1] }, ctx).feasible).toBe(false);
    expect(feasibility({ step: 64, losses: [2.9, 2.5, 2.0, 9] }, ctx)).toEqual({ feasible: true, worstExcess: 0, targetLoss: 5.4, targetsImproved: true });
    expect(feasibility({ step: 64, losses: [2.9, 2.5, 2.01, 1] }, ctx).feasible).toBe(false);
    expect(feasibility({ step: 64, losses: [3.0, 2.6, 1.9, 1] }, ctx).feasible).toBe(false);
  });

  it('picks the feasible checkpoint with the lowest target loss and reports test perplexity reductions', () => {
    const points = [
      { step: 0, losses: [3, 2.5, 2, 1] },
      { step: 64, losses: [2.8, 2.4, 1.99, 1] },
      { step: 128, losses: [2.5, 2.3, 2.05, 1] },
      { step: 192, losses: [2.6, 2.3, 2.0, 1] },
    ];
    const sel = selectCheckpoint(points, ctx);
    expect(sel).toEqual({ step: 192, feasible: true, worstExcess: 0, feasibleCount: 2 });
    const report = testReport(ctx, sel, points, [3.1, 2.6, 2.0, 1.1], [2.9, 2.4, 2.01, 1.0]);
    expect(report.targets[0]?.pplReduction).toBeCloseTo(1 - Math.exp(-0.2), 12);
    expect(report.targetPplReduction).toBeCloseTo(1 - Math.exp(-0.2), 12);
    expect(report.constraints).toEqual([{ domain: 'c', reference: 2, evalLoss: 2.0, baseTestLoss: 2.0, testLoss: 2.01 }]);
  });

  it('scores an infeasible run 0%, with its least violation', () => {
    const points = [
      { step: 0, losses: [3, 2.5, 2, 1] },
      { step: 64, losses: [2.8, 2.4, 2.3, 1] },
      { step: 128, losses: [2.5, 2.3, 2.1, 1] },
    ];
    const sel = selectCheckpoint(points, ctx);
    expect(sel.feasible).toBe(false);
    expect(sel.worstExcess).toBeCloseTo(0.1, 12);
    const report = testReport(ctx, sel, points, [3.1, 2.6, 2.0, 1.1], null);
    expect(report).toMatchObject({ feasible: false, selectedStep: null, targetPplReduction: 0 });
    expect(report.targets[0]).toEqual({ domain: 't1', baseTestLoss: 3.1, testLoss: null, pplReduction: null });
  });

  it('takes the geometric mean over targets', () => {
    const sel = { step: 64, feasible: true, worstExcess: -0.1, feasibleCount: 1 };
    const report = testReport(ctx, sel, [{ step: 64, losses: [2, 2, 1.9, 1] }], [3, 3, 2, 1], [2.9, 2.5, 1.9, 1]);
    const ratios = [Math.exp(2.9 - 3), Math.exp(2.5 - 3)];
    expect(report.targetPplReduction).toBeCloseTo(1 - Math.sqrt((ratios[0] as number) * (ratios[1] as number)), 12);
  });
});
