// Pure helpers of the renderer: decision explanations, shortcuts, formatting, form helpers.
import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/shared/runs';
import { formatCount, formatDelta, formatDuration, formatPercent } from '../../src/renderer/src/format';
import { explainDecision, nextEval, summarize } from '../../src/renderer/src/lib/explain';
import { goShortcuts } from '../../src/renderer/src/lib/shortcuts';
import { datasetNameFrom } from '../../src/renderer/src/stores/datasets';
import { overlay, problemsAt, problemsUnder } from '../../src/renderer/src/stores/experiment';
import { upsertPoint } from '../../src/renderer/src/stores/run';

const decision: Decision = {
  step: 64,
  horizon: 128,
  weights: [0.7, 0.3, 0],
  slopes: [[-0.001, 0.0005, 0], [0.0002, -0.0001, 0.0003]],
  losses: [2.0, 1.5],
  predicted: [1.9, 1.5],
  status: 'feasible',
  solver: { name: 'lp' },
  binding: ['safety'],
};
const domains = [
  { id: 'code', role: 'target' as const },
  { id: 'safety', role: 'constraint' as const },
];

describe('decision explanation', () => {
  it('compares the prediction, interpolated to the next evaluation, with what it measured', () => {
    const evals = [
      { step: 64, losses: { code: 2.0, safety: 1.5 } },
      { step: 128, losses: { code: 1.97, safety: 1.52 } },
      { step: 192, losses: { code: 1.9, safety: 1.49 } },
    ];
    expect(nextEval(evals, 64, 128)?.step).toBe(128);
    const e = explainDecision(decision, domains, [null, 1.51], evals, ['code-src', 'chat', 'web']);
    expect(e.evalStep).toBe(128);
    const [code, safety] = e.rows;
    expect(code!.predicted).toBeCloseTo(1.95);
    expect(code!.actual).toBe(1.97);
    expect(code!.error).toBeCloseTo(0.02);
    expect(code!.reference).toBeNull();
    expect(safety!.binding).toBe(true);
    expect(safety!.violated).toBe(true);
    expect(safety!.predictedViolation).toBe(false);
    expect(e.summary).toBe('The solver put code-src 70%, chat 30% for steps 64–192, held back by safety (at its reference).');
  });

  it('falls back to the horizon prediction before any evaluation, and words infeasible and fixed decisions', () => {
    const e = explainDecision(decision, domains, [null, 1.49], [], ['a', 'b', 'c']);
    expect(e.evalStep).toBeNull();
    expect(e.rows[0]!.predicted).toBe(1.9);
    expect(e.rows[1]!.predictedViolation).toBe(true);
    expect(summarize({ ...decision, status: 'infeasible' }, ['a', 'b', 'c'])).toMatch(/least-violating/);
    expect(summarize({ ...decision, status: 'fixed', binding: [] }, ['a', 'b', 'c'])).toBe('A fixed mixture for steps 64–192: a 70%, b 30%.');
  });
});

describe('go-to shortcuts', () => {
  it('maps g then a letter to a view, ignores typing in fields and expires', () => {
    let t = 0;
    const go = goShortcuts(1000, () => t);
    expect(go({ key: 'g' })).toBeNull();
    expect(go({ key: 'r' })).toBe('/runs');
    expect(go({ key: 'r' })).toBeNull();
    go({ key: 'g' });
    t = 5000;
    expect(go({ key: 'm' })).toBeNull();
    go({ key: 'g', targetTag: 'input' });
    expect(go({ key: 'm' })).toBeNull();
    go({ key: 'g' });
    expect(go({ key: 'm', ctrlKey: true })).toBeNull();
    go({ key: 'G' });
    expect(go({ key: 'W' })).toBe('/whatif');
  });
});

describe('formatting', () => {
  it('formats counts, durations, signed percentages and deltas', () => {
    expect(formatCount(1234)).toBe('1.2k');
    expect(formatCount(494_032_768)).toBe('494M');
    expect(formatCount(null)).toBe('—');
    expect(formatDuration(59_000)).toBe('59 s');
    expect(formatDuration(3_723_000)).toBe('1 h 02 min');
    expect(formatPercent(0.082)).toBe('+8.2%');
    expect(formatPercent(-0.004)).toBe('−0.4%');
    expect(formatDelta(0)).toBe('±0.0000');
  });
});

describe('form helpers', () => {
  const problems = [
    { path: ['training', 'steps'], field: 'training.steps', message: 'training.steps must be at least 1 (got 0)', severity: 'error' as const },
    { path: ['domains', 1, 'reference', 'loss'], field: 'domains[1].reference.loss', message: 'domains[1].reference.loss must be at least 0', severity: 'error' as const },
    { path: ['training', 'seqLength'], field: 'training.seqLength', message: 'longer than the model', severity: 'warning' as const },
  ];
  it('finds the problems of one field, or of everything under a path', () => {
    expect(problemsAt(problems, 'training.steps')).toEqual(['training.steps must be at least 1 (got 0)']);
    expect(problemsAt(problems, 'training.seqLength')).toEqual([]);
    expect(problemsAt(problems, 'training.seqLength', 'warning')).toEqual(['longer than the model']);
    expect(problemsUnder(problems, 'domains[1]').map((p) => p.field)).toEqual(['domains[1].reference.loss']);
    expect(problemsUnder(problems, 'domains[10]')).toEqual([]);
  });

  it('lays a broken file over the defaults so the form still has every field', () => {
    const merged = overlay({ training: { steps: 2048, batchSize: 8 }, sources: [{ id: 'a' }] }, { training: { steps: 'lots' }, sources: [], extra: 1 });
    expect(merged).toEqual({ training: { steps: 'lots', batchSize: 8 }, sources: [], extra: 1 });
  });

  it('derives dataset names the catalog accepts from file names', () => {
    expect(datasetNameFrom('/data/My SFT set.jsonl')).toBe('My-SFT-set');
    expect(datasetNameFrom('C:\\x\\_notes.txt.gz')).toBe('notes');
    expect(datasetNameFrom('...')).toBe('dataset');
  });

  it('keeps live curves sorted with one value per step', () => {
    let c = { steps: [0, 64], values: [2, 1.9] };
    c = upsertPoint(c, 128, 1.8);
    c = upsertPoint(c, 32, 1.95);
    c = upsertPoint(c, 64, 1.85);
    expect(c).toEqual({ steps: [0, 32, 64, 128], values: [2, 1.95, 1.85, 1.8] });
  });
});
