// Splitting and the text helpers it relies on: duplicates and short documents dropped, units
// never straddling splits, byte targets reached, results independent of input order; whitespace
// normalization, the seeded PRNG and paragraph packing.
import { describe, expect, it } from 'vitest';
import { assignSplits, SPLITS, type Unit } from '../../../scripts/corpora/split';
import { normalizeWhitespace, packParagraphs, Rng } from '../../../scripts/corpora/text';

const targets = { evalBytes: 300, testBytes: 300, trainMaxBytes: 1000, minChars: 20 };

function units(n: number): Unit[] {
  return Array.from({ length: n }, (_v, i) => ({
    key: `u${i}`,
    docs: [
      { id: `u${i}/a`, text: `document ${i} first part, long enough to keep` },
      { id: `u${i}/b`, text: `document ${i} second part, long enough to keep` },
    ],
  }));
}

describe('assignSplits', () => {
  it('fills test and eval to their targets first, then train under its cap', () => {
    const r = assignSplits('d', units(40), targets);
    const bytes = (s: (typeof SPLITS)[number]): number => r.splits[s].reduce((n, d) => n + d.text.length, 0);
    expect(bytes('test')).toBeGreaterThanOrEqual(300);
    expect(bytes('eval')).toBeGreaterThanOrEqual(300);
    expect(bytes('train')).toBeLessThanOrEqual(1000);
    expect(bytes('train')).toBeGreaterThan(900);
    expect(r.dropped.overBudget).toBeGreaterThan(0);
  });

  it('keeps the documents of one unit in one split', () => {
    const r = assignSplits('d', units(40), targets);
    for (const s of SPLITS) {
      for (const d of r.splits[s]) {
        const sibling = d.id.endsWith('/a') ? d.id.replace('/a', '/b') : d.id.replace('/b', '/a');
        expect(r.splits[s].some((x) => x.id === sibling), d.id).toBe(true);
      }
    }
  });

  it('drops exact duplicates (even across units) and short documents, so no text reaches two splits', () => {
    const us = units(30);
    us.push({ key: 'dup', docs: [{ id: 'dup/a', text: 'document 3 first part, long enough to keep' }, { id: 'dup/short', text: 'tiny' }] });
    const r = assignSplits('d', us, { ...targets, trainMaxBytes: 1e9 });
    expect(r.dropped.duplicate).toBe(1);
    expect(r.dropped.short).toBe(1);
    const all = SPLITS.flatMap((s) => r.splits[s].map((d) => d.text));
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBe(60);
  });

  it('does not depend on the order of its input', () => {
    const a = assignSplits('d', units(40), targets);
    const b = assignSplits('d', units(40).reverse(), targets);
    expect(b).toEqual(a);
  });

  it('refuses repeated keys or ids, which would make the result ambiguous', () => {
    expect(() => assignSplits('d', [...units(2), ...units(1)], targets)).toThrow(/unit key u0 appears twice/);
  });
});

describe('normalizeWhitespace', () => {
  it('normalizes line endings, controls, trailing spaces and blank runs, keeping indentation', () => {
    expect(normalizeWhitespace('\r\n\n  a\u00a0b  \r\n\tc\u0007\n\n\n\nd\u0085\n\n')).toBe('  a b\n\tc\n\nd');
  });
});

describe('Rng', () => {
  it('repeats its sequence for a seed and differs across seeds, within range', () => {
    const a = new Rng('seed');
    const b = new Rng('seed');
    const xs = Array.from({ length: 50 }, () => a.int(3, 9));
    expect(Array.from({ length: 50 }, () => b.int(3, 9))).toEqual(xs);
    expect(xs.every((x) => x >= 3 && x <= 9)).toBe(true);
    expect(new Set(xs).size).toBe(7);
    const c = new Rng('other');
    expect(Array.from({ length: 50 }, () => c.int(3, 9))).not.toEqual(xs);
  });

  it('has a pinned first output, so a change of generator cannot pass unnoticed', () => {
    // The arithmetic corpus and its manifest hash depend on this exact sequence.
    const r = new Rng('dynamics-corpora-arithmetic-v1');
    expect([r.nextUint32(), r.nextUint32(), r.nextUint32()]).toEqual([807389597, 1366904988, 610196862]);
    expect(() => new Rng('x').int(5, 4)).toThrow(/bad range/);
  });
});

describe('packParagraphs', () => {
  it('packs greedily under the limit and leaves an oversize paragraph whole', () => {
    expect(packParagraphs(['aaa', 'bbb', 'cccccccccc', 'd'], 8)).toEqual(['aaa\n\nbbb', 'cccccccccc', 'd']);
  });
});
