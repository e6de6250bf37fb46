// Deterministic train/eval/test splits. Each example's key is a seeded mix of its content hash, so
// exact duplicates share a key and can never straddle splits, and the split does not depend on
// file order or on the tokenizer. Examples are ranked by key: the first `eval` distinct contents
// form the eval split, the next `test` the test split, the rest train. Fractions are turned into
// counts of distinct contents (rounded, at least one when the fraction is above zero).
import { UserError } from '../../shared/errors';
import { fmix32, hash32 } from './prng';

export type SplitName = 'train' | 'eval' | 'test';
export const SPLIT_NAMES: readonly SplitName[] = ['train', 'eval', 'test'];

export interface SplitSpec {
  /** Size of the eval split: a count of examples (an integer ≥ 1) or a fraction in [0, 1). */
  eval: number;
  /** Size of the test split, likewise. */
  test: number;
  /** Changing the seed draws a different split of the same data. */
  seed?: string;
}

export const DEFAULT_SPLIT: SplitSpec = { eval: 0.05, test: 0.05, seed: 'split' };

export interface ContentHashes {
  readonly exampleCount: number;
  hashHi(i: number): number;
  hashLo(i: number): number;
}

export interface SplitResult {
  /** Example indices per split, in key order (a fixed pseudo-random order). */
  examples: Record<SplitName, Uint32Array>;
  /** Distinct contents in the dataset. */
  distinct: number;
}

/** Checks a size; returns a description of the problem or null. */
function sizeProblem(name: string, v: unknown): string | null {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return `the ${name} split size must be a count (1, 2, …) or a fraction in [0, 1), not ${JSON.stringify(v)}`;
  if (v >= 1 && !Number.isInteger(v)) return `the ${name} split size ${v} is neither a whole count nor a fraction below 1`;
  return null;
}

export function validateSplitSpec(spec: SplitSpec): void {
  for (const name of ['eval', 'test'] as const) {
    const p = sizeProblem(name, spec[name]);
    if (p) throw new UserError(p);
  }
  if (spec.eval < 1 && spec.test < 1 && spec.eval + spec.test >= 1) throw new UserError('the eval and test fractions together must leave something to train on');
}

/** The seeded 53-bit key of a content hash, in [0, 1). */
export function splitKey(hi: number, lo: number, seed: number): number {
  const a = fmix32(hi ^ seed);
  const b = fmix32(lo ^ fmix32(a ^ 0x9e3779b9) ^ seed);
  return ((a >>> 0) * 2097152 + (b >>> 11)) / 9007199254740992;
}

function countFor(size: number, distinct: number): number {
  if (size >= 1) return size;
  if (size === 0) return 0;
  return Math.max(1, Math.round(size * distinct));
}

export function splitExamples(data: ContentHashes, spec: SplitSpec): SplitResult {
  validateSplitSpec(spec);
  const n = data.exampleCount;
  const seed = hash32(spec.seed ?? DEFAULT_SPLIT.seed!);
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) keys[i] = splitKey(data.hashHi(i), data.hashLo(i), seed);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((x, y) => keys[x]! - keys[y]! || x - y);

  let distinct = 0;
  for (let k = 0; k < n; k++) if (k === 0 || keys[order[k]!] !== keys[order[k - 1]!]) distinct++;
  const nEval = countFor(spec.eval, distinct);
  const nTest = countFor(spec.test, distinct);
  if (nEval + nTest >= distinct) {
    throw new UserError(`the dataset has ${distinct} distinct example${distinct === 1 ? '' : 's'}; eval ${nEval} + test ${nTest} leave nothing to train on`);
  }

  // Walk in key order; a new distinct key advances the count that decides the split.
  const bounds = { eval: [0, 0], test: [0, 0], train: [0, 0] };
  let rank = -1;
  let evalEnd = 0;
  let testEnd = 0;
  for (let k = 0; k < n; k++) {
    if (k === 0 || keys[order[k]!] !== keys[order[k - 1]!]) rank++;
    if (rank < nEval) evalEnd = k + 1;
    else if (rank < nEval + nTest) testEnd = k + 1;
  }
  if (nTest === 0) testEnd = evalEnd;
  bounds.eval = [0, evalEnd];
  bounds.test = [evalEnd, testEnd];
  bounds.train = [testEnd, n];
  return {
    examples: {
      eval: order.slice(bounds.eval[0], bounds.eval[1]),
      test: order.slice(bounds.test[0], bounds.test[1]),
      train: order.slice(bounds.train[0], bounds.train[1]),
    },
    distinct,
  };
}
