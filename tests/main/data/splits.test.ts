// Deterministic splits: disjoint and covering, exact sizes, duplicates never straddle, stable
// under reordering of the file, different under another seed.
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../src/shared/errors';
import { splitExamples, type SplitSpec } from '../../../src/main/data/splits';

/** Content hashes as the token store holds them; `content[i]` names example i's content. */
function hashes(content: number[]) {
  return {
    exampleCount: content.length,
    hashHi: (i: number) => Math.imul(content[i]! + 1, 0x9e3779b1) >>> 0,
    hashLo: (i: number) => Math.imul(content[i]! + 7, 0x85ebca6b) >>> 0,
  };
}

function contentsOf(content: number[], idx: Uint32Array): number[] {
  return Array.from(idx, (i) => content[i]!).sort((a, b) => a - b);
}

describe('splitExamples', () => {
  const content = Array.from({ length: 1000 }, (_, i) => i);

  it('is disjoint and covers every example, with exact counts', () => {
    const r = splitExamples(hashes(content), { eval: 50, test: 30 });
    expect(r.examples.eval.length).toBe(50);
    expect(r.examples.test.length).toBe(30);
    expect(r.examples.train.length).toBe(920);
    const all = [...r.examples.train, ...r.examples.eval, ...r.examples.test].sort((a, b) => a - b);
    expect(all).toEqual(content);
  });

  it('turns fractions into counts of distinct contents, at least one when above zero', () => {
    const r = splitExamples(hashes(content), { eval: 0.05, test: 0.001 });
    expect(r.examples.eval.length).toBe(50);
    expect(r.examples.test.length).toBe(1);
    expect(splitExamples(hashes(content), { eval: 0, test: 0 }).examples.train.length).toBe(1000);
  });

  it('is the same every time and does not depend on the file order', () => {
    const spec: SplitSpec = { eval: 0.1, test: 0.1, seed: 's' };
    const a = splitExamples(hashes(content), spec);
    const reversed = [...content].reverse();
    const b = splitExamples(hashes(reversed), spec);
    for (const s of ['train', 'eval', 'test'] as const) expect(contentsOf(reversed, b.examples[s])).toEqual(contentsOf(content, a.examples[s]));
    expect(Array.from(splitExamples(hashes(content), spec).examples.eval)).toEqual(Array.from(a.examples.eval));
  });

  it('draws another split under another seed', () => {
    const a = splitExamples(hashes(content), { eval: 100, test: 0, seed: 'a' });
    const b = splitExamples(hashes(content), { eval: 100, test: 0, seed: 'b' });
    const overlap = contentsOf(content, a.examples.eval).filter((c) => contentsOf(content, b.examples.eval).includes(c)).length;
    expect(overlap).toBeLessThan(40); // ~10 expected by chance
  });

  it('keeps exact duplicates together, and counts sizes in distinct contents', () => {
    // 300 examples, 100 distinct contents, each appearing 3 times in scattered places.
    const dup = Array.from({ length: 300 }, (_, i) => (i * 37) % 100);
    const r = splitExamples(hashes(dup), { eval: 10, test: 10 });
    expect(r.distinct).toBe(100);
    const sets = (['train', 'eval', 'test'] as const).map((s) => new Set(contentsOf(dup, r.examples[s])));
    expect(sets[1]!.size).toBe(10);
    expect(sets[2]!.size).toBe(10);
    expect(r.examples.eval.length).toBe(30);
    for (let x = 0; x < 3; x++) for (let y = x + 1; y < 3; y++) for (const c of sets[x]!) expect(sets[y]!.has(c)).toBe(false);
  });

  it('refuses sizes that are not counts or fractions, or leave nothing to train on', () => {
    for (const [spec, msg] of [
      [{ eval: -1, test: 0 }, /count .* or a fraction/],
      [{ eval: 2.5, test: 0 }, /neither a whole count nor a fraction/],
      [{ eval: 0.6, test: 0.5 }, /must leave something to train on/],
      [{ eval: 900, test: 100 }, /1000 distinct examples; eval 900 \+ test 100 leave nothing to train on/],
    ] as [SplitSpec, RegExp][]) {
      expect(() => splitExamples(hashes(content), spec)).toThrow(UserError);
      expect(() => splitExamples(hashes(content), spec)).toThrow(msg);
    }
  });
});
