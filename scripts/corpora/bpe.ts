// Byte-level BPE: our own trainer and encoder. Text is split by the GPT-2 pre-tokenizer regex
// (exactly the pattern of Hugging Face's ByteLevel pre-tokenizer), each piece becomes its UTF-8
// bytes, and merges are learned greedily by pair frequency. The trainer is deterministic: ties in
// frequency go to the pair whose left token's bytes sort first, then the right token's bytes, so
// the result never depends on insertion or hash-map order. Because training is greedy, the first
// k merges of a run are exactly what a run asked for a smaller vocabulary would learn.

/** Hugging Face's ByteLevel pre-tokenizer pattern (GPT-2's), with JavaScript's u flag. */
export const GPT2_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

export function preTokenize(text: string): string[] {
  return text.match(GPT2_PATTERN) ?? [];
}

/** Pre-token (as a latin1 string of its UTF-8 bytes) → occurrences over all texts. */
export function countWords(texts: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const piece of preTokenize(text)) {
      const bytes = Buffer.from(piece, 'utf8').toString('latin1');
      counts.set(bytes, (counts.get(bytes) ?? 0) + 1);
    }
  }
  return counts;
}

export interface BpeTrainOptions {
  /** Tokens wanted, the 256 bytes included; fewer only if no pair occurs `minFrequency` times. */
  vocabSize: number;
  /** Never merge a digit with anything, so numbers are always spelled digit by digit. */
  splitDigits: boolean;
  minFrequency: number;
}

export interface BpeModel {
  /** Token id → its bytes as a latin1 string; ids 0–255 are the single bytes. Strings are unique. */
  tokens: string[];
  /** Merge rules in rank order: [left, right, result]. A rule whose result string already exists
   *  (reached earlier by another split of the same bytes) reuses that token, as Hugging Face's
   *  trainer does, since a vocabulary maps each string to one id. */
  merges: Array<[number, number, number]>;
  /** How often each merge's pair occurred in the training words when it was chosen. */
  counts: number[];
}

const ID_LIMIT = 1 << 16;

function pairKey(a: number, b: number): number {
  return a * ID_LIMIT + b;
}

function isDigit(byte: number): boolean {
  return byte >= 0x30 && byte <= 0x39;
}

/** A max-heap of pairs by (count desc, left bytes asc, right bytes asc), with lazy invalidation. */
class PairHeap {
  private items: Array<{ key: number; count: number }> = [];
  constructor(private readonly tokens: string[]) {}

  private better(i: number, j: number): boolean {
    const a = this.items[i];
    const b = this.items[j];
    if (!a || !b) throw new Error('heap index out of range');
    if (a.count !== b.count) return a.count > b.count;
    const al = this.tokens[Math.floor(a.key / ID_LIMIT)] ?? '';
    const bl = this.tokens[Math.floor(b.key / ID_LIMIT)] ?? '';
    if (al !== bl) return al < bl;
    const ar = this.tokens[a.key % ID_LIMIT] ?? '';
    const br = this.tokens[b.key % ID_LIMIT] ?? '';
    return ar < br;
  }

  private swap(i: number, j: number): void {
    const t = this.items[i];
    const u = this.items[j];
    if (!t || !u) throw new Error('heap index out of range');
    this.items[i] = u;
    this.items[j] = t;
  }

  get size(): number {
    return this.items.length;
  }

  push(key: number, count: number): void {
    this.items.push({ key, count });
    let i = this.items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.better(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): { key: number; count: number } | undefined {
    const top = this.items[0];
    const last = this.items.pop();
    if (!top || !last) return undefined;
    if (this.items.length === 0) return top;
    this.items[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < this.items.length && this.better(l, best)) best = l;
      if (r < this.items.length && this.better(r, best)) best = r;
      if (best === i) break;
      this.swap(i, best);
      i = best;
    }
    return top;
  }
}

export function trainBpe(wordCounts: ReadonlyMap<string, number>, opts: BpeTrainOptions): BpeModel {
  if (opts.vocabSize > ID_LIMIT) throw new Error(`at most ${ID_LIMIT} tokens`);
  const tokens: string[] = [];
  for (let b = 0; b < 256; b++) tokens.push(String.fromCharCode(b));
  const blocked: boolean[] = tokens.map((_t, b) => opts.splitDigits && isDigit(b));

  // Words in byte order so every structure below is built the same way on every run.
  const entries = [...wordCounts].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const words: number[][] = entries.map(([w]) => Array.from(w, (c) => c.charCodeAt(0)));
  const freqs: number[] = entries.map(([, n]) => n);

  const counts = new Map<number, number>();
  const where = new Map<number, Set<number>>();
  const add = (a: number, b: number, wi: number, f: number): void => {
    if (blocked[a] || blocked[b]) return;
    const k = pairKey(a, b);
    counts.set(k, (counts.get(k) ?? 0) + f);
    let s = where.get(k);
    if (!s) {
      s = new Set();
      where.set(k, s);
    }
    s.add(wi);
  };
  const remove = (a: number, b: number, f: number): void => {
    if (blocked[a] || blocked[b]) return;
    const k = pairKey(a, b);
    counts.set(k, (counts.get(k) ?? 0) - f);
  };
  words.forEach((w, wi) => {
    for (let j = 0; j + 1 < w.length; j++) add(w[j] ?? 0, w[j + 1] ?? 0, wi, freqs[wi] ?? 0);
  });

  const heap = new PairHeap(tokens);
  for (const [k, c] of counts) heap.push(k, c);

  const ids = new Map<string, number>(tokens.map((t, i) => [t, i]));
  const merges: Array<[number, number, number]> = [];
  const mergeCounts: number[] = [];
  while (tokens.length < opts.vocabSize) {
    const top = heap.pop();
    if (!top) break;
    const current = counts.get(top.key) ?? 0;
    if (current !== top.count) {
      if (current > 0) heap.push(top.key, current);
      continue;
    }
    if (current < opts.minFrequency) break;
    const a = Math.floor(top.key / ID_LIMIT);
    const b = top.key % ID_LIMIT;
    const merged = (tokens[a] ?? '') + (tokens[b] ?? '');
    let id = ids.get(merged);
    if (id === undefined) {
      id = tokens.length;
      tokens.push(merged);
      ids.set(merged, id);
      blocked.push(false);
    }
    merges.push([a, b, id]);
    mergeCounts.push(current);

    const touched = new Set<number>();
    const affected = [...(where.get(top.key) ?? [])].sort((x, y) => x - y);
    for (const wi of affected) {
      const w = words[wi];
      const f = freqs[wi] ?? 0;
      if (!w) continue;
      let has = false;
      for (let j = 0; j + 1 < w.length; j++) if (w[j] === a && w[j + 1] === b) has = true;
      if (!has) continue;
      for (let j = 0; j + 1 < w.length; j++) remove(w[j] ?? 0, w[j + 1] ?? 0, f);
      const next: number[] = [];
      for (let j = 0; j < w.length; j++) {
        if (j + 1 < w.length && w[j] === a && w[j + 1] === b) {
          next.push(id);
          j++;
        } else next.push(w[j] ?? 0);
      }
      words[wi] = next;
      for (let j = 0; j + 1 < next.length; j++) {
        add(next[j] ?? 0, next[j + 1] ?? 0, wi, f);
        touched.add(pairKey(next[j] ?? 0, next[j + 1] ?? 0));
      }
    }
    counts.delete(top.key);
    where.delete(top.key);
    // Pairs whose count rose need a fresh heap entry; ones that fell are corrected when popped.
    for (const k of [...touched].sort((x, y) => x - y)) {
      const c = counts.get(k) ?? 0;
      if (c > 0) heap.push(k, c);
    }
  }
  return { tokens, merges, counts: mergeCounts };
}

/** Applies the first `limit` merges of a model, lowest rank first, as Hugging Face's BPE does. */
export class BpeEncoder {
  private readonly ranks = new Map<number, number>();
  private readonly results: number[] = [];
  private readonly cache = new Map<string, number[]>();

  /** `limit`: use only the first merges (the tokenizer a smaller vocabulary would have been). */
  constructor(model: BpeModel, limit = model.merges.length) {
    model.merges.slice(0, limit).forEach(([a, b, id], r) => {
      this.ranks.set(pairKey(a, b), r);
      this.results.push(id);
    });
  }

  /** Token ids of one pre-token given as a latin1 string of its bytes. */
  encodeBytes(bytes: string): number[] {
    const hit = this.cache.get(bytes);
    if (hit) return hit;
    let w = Array.from(bytes, (c) => c.charCodeAt(0));
    for (;;) {
      let best = -1;
      let bestRank = Infinity;
      for (let j = 0; j + 1 < w.length; j++) {
        const r = this.ranks.get(pairKey(w[j] ?? 0, w[j + 1] ?? 0));
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = j;
        }
      }
      if (best < 0) break;
      const a = w[best] ?? 0;
      const b = w[best + 1] ?? 0;
      const id = this.results[bestRank] ?? -1;
      const next: number[] = [];
      for (let j = 0; j < w.length; j++) {
        if (j + 1 < w.length && w[j] === a && w[j + 1] === b) {
          next.push(id);
          j++;
        } else next.push(w[j] ?? 0);
      }
      w = next;
    }
    if (bytes.length < 256) this.cache.set(bytes, w);
    return w;
  }

  encode(text: string): number[] {
    const ids: number[] = [];
    for (const piece of preTokenize(text)) ids.push(...this.encodeBytes(Buffer.from(piece, 'utf8').toString('latin1')));
    return ids;
  }
}
