// Largest-triangle downsampling: ends kept, spikes kept, gaps survived.
import { describe, expect, it } from 'vitest';
import { lttbIndices } from '../../src/shared/lttb';

describe('lttbIndices', () => {
  const xs = Array.from({ length: 10_000 }, (_, i) => i);

  it('keeps everything when there are few points, and the ends otherwise', () => {
    expect(lttbIndices([0, 1, 2], [1, 2, 3], 10)).toEqual([0, 1, 2]);
    expect(lttbIndices(xs, xs, 0)).toHaveLength(10_000);
    const idx = lttbIndices(xs, xs.map(Math.sin), 500);
    expect(idx).toHaveLength(500);
    expect(idx[0]).toBe(0);
    expect(idx.at(-1)).toBe(9_999);
    expect(idx.every((v, k) => k === 0 || v > idx[k - 1]!)).toBe(true);
  });

  it('keeps a single spike that a stride would miss', () => {
    const stride = Array.from({ length: 200 }, (_, k) => Math.round((k * 9_999) / 199));
    const spike = stride[86]! + 7;
    expect(stride).not.toContain(spike);
    const ys = xs.map((x) => (x === spike ? 100 : Math.sin(x / 300)));
    expect(lttbIndices(xs, ys, 200)).toContain(spike);
  });

  it('survives gaps (NaN) and picks aligned columns', () => {
    const ys = xs.map((x) => (x % 7 === 0 ? Number.NaN : x));
    const idx = lttbIndices(xs, ys, 100);
    expect(idx).toHaveLength(100);
  });
});
