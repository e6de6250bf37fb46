// The runs service's pure helpers: picking downsampled columns, rounding drawn values, sorting,
// config diff, CSV.
import { describe, expect, it } from 'vitest';
import { forDrawing, pick } from '../../../src/main/services/downsample';
import { configDiff, csvField, flatten, sortRuns } from '../../../src/main/services/run-tables';
import type { RunSummary } from '../../../src/shared/runs';

const run = (id: number, over: Partial<RunSummary>): RunSummary => ({
  id, name: `r${id}`, strategy: 'dynamics', seed: 0, status: 'completed', statusReason: null, tags: [], device: null, createdAt: id, startedAt: null, updatedAt: id,
  finishedAt: null, totalSteps: null, lastStep: null, tokensSeen: 0, durationMs: 0, feasible: null, targetGain: null, maxViolation: null, costMultiple: null, selectedStep: null, suite: null, ...over,
});

describe('runs tables', () => {
  it('sorts by a column with nulls last in both directions, ties newest first', () => {
    const runs = [run(1, { targetGain: 0.1 }), run(2, { targetGain: null }), run(3, { targetGain: 0.3 }), run(4, { targetGain: 0.1 })];
    expect(sortRuns([...runs], 'targetGain', 'desc').map((r) => r.id)).toEqual([3, 4, 1, 2]);
    expect(sortRuns([...runs], 'targetGain', 'asc').map((r) => r.id)).toEqual([4, 1, 3, 2]);
    expect(sortRuns([run(1, { name: 'b' }), run(2, { name: 'a' })], 'name', 'asc').map((r) => r.name)).toEqual(['a', 'b']);
    expect(sortRuns([run(1, { feasible: true }), run(2, { feasible: false })], 'feasible', 'desc').map((r) => r.id)).toEqual([1, 2]);
  });

  it('diffs configurations by leaf path, keeping scalar lists whole', () => {
    expect([...flatten({ a: { b: 1, c: [1, 2] }, d: [{ e: 1 }] }).keys()]).toEqual(['a.b', 'a.c', 'd[0].e']);
    const rows = configDiff([{ a: 1, s: [{ id: 'x' }], l: [1] }, { a: 1, s: [{ id: 'y' }, { id: 'z' }], l: [1] }]);
    expect(rows).toEqual([{ path: 's[0].id', values: ['x', 'y'] }, { path: 's[1].id', values: [null, 'z'] }]);
    expect(configDiff([{ a: 1 }, { a: 1 }])).toEqual([]);
  });

  it('picks the columns at the chosen indices', () => {
    expect(pick(['a', 'b', 'c'], [2, 0])).toEqual(['c', 'a']);
  });

  it('rounds drawn values to 7 significant digits and passes zero and non-finite values through', () => {
    expect(forDrawing([3.0036761818787436, 0.000123456789, -12345.6789, 0, Number.NaN, Infinity])).toEqual([3.003676, 0.0001234568, -12345.68, 0, Number.NaN, Infinity]);
    expect(JSON.stringify(forDrawing([2.992651297623614]))).toBe('[2.992651]');
  });

  it('quotes CSV fields that need it', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField(Number.NaN)).toBe('');
    expect(csvField(null)).toBe('');
    expect(csvField(0.5)).toBe('0.5');
  });
});
