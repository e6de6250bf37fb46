// The merge loop of the fast byte-level BPE on one word's symbols: always the lowest-ranked pair,
// leftmost first, which is what @huggingface/tokenizers' priority queue does. Pairs are looked up
// in an open-addressing table of integers, never through string keys.

/** Words of more symbols than this merge with a heap instead of rescanning every pair. */
const LINEAR_MERGE_MAX = 48;

/** A merge table's integers, as a worker thread receives them (typed arrays copy cheaply). */
export interface MergeArrays {
  left: Int32Array;
  right: Int32Array;
  rank: Int32Array;
  result: Int32Array;
}

/** An open-addressing table from a symbol pair to its merge rank. */
class PairTable {
  readonly left: Int32Array;
  readonly right: Int32Array;
  readonly rank: Int32Array;
  private readonly mask: number;

  constructor(capacity: number, arrays?: Omit<MergeArrays, 'result'>) {
    let size = 16;
    while (size < capacity * 2) size <<= 1;
    if (arrays && arrays.left.length !== size) throw new Error('a merge table of the wrong size');
    this.left = arrays?.left ?? new Int32Array(size).fill(-1);
    this.right = arrays?.right ?? new Int32Array(size);
    this.rank = arrays?.rank ?? new Int32Array(size);
    this.mask = size - 1;
  }

  private slot(a: number, b: number): number {
    let h = (Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77)) & this.mask;
    while (this.left[h] !== -1 && (this.left[h] !== a || this.right[h] !== b)) h = (h + 1) & this.mask;
    return h;
  }

  set(a: number, b: number, rank: number): void {
    const h = this.slot(a, b);
    this.left[h] = a;
    this.right[h] = b;
    this.rank[h] = rank;
  }

  /** The rank of merging a then b, or -1. */
  get(a: number, b: number): number {
    const h = this.slot(a, b);
    return this.left[h] === -1 ? -1 : this.rank[h]!;
  }
}

export class MergeTable {
  private readonly pairs: PairTable;
  /** The symbol each merge rank makes. */
  private readonly result: Int32Array;

  constructor(merges: number, arrays?: MergeArrays) {
    this.pairs = new PairTable(merges, arrays);
    this.result = arrays?.result ?? new Int32Array(merges);
  }

  /** How many merges the table holds. */
  get size(): number {
    return this.result.length;
  }

  /** The table as typed arrays, for `new MergeTable(n, arrays)` in another thread. */
  arrays(): MergeArrays {
    return { left: this.pairs.left, right: this.pairs.right, rank: this.pairs.rank, result: this.result };
  }

  /** Merge `rank` joins a then b into `into`; a pair set twice keeps its last rank. */
  set(a: number, b: number, rank: number, into: number): void {
    this.pairs.set(a, b, rank);
    this.result[rank] = into;
  }

  /** Merges the n symbols of s in place; returns how many are left. */
  merge(s: Int32Array, n: number): number {
    return n <= LINEAR_MERGE_MAX ? this.mergeLinear(s, n) : this.mergeHeap(s, n);
  }

  /** Short words: rescan the pairs after each merge. Returns the number of symbols left. */
  private mergeLinear(s: Int32Array, n: number): number {
    let len = n;
    while (len > 1) {
      let best = -1;
      let bestRank = 0x7fffffff;
      for (let i = 0; i + 1 < len; i++) {
        const r = this.pairs.get(s[i]!, s[i + 1]!);
        if (r >= 0 && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      s[best] = this.result[bestRank]!;
      s.copyWithin(best + 1, best + 2, len);
      len--;
    }
    return len;
  }

  /**
   * Long words: a binary heap of (rank, position) over a linked list of symbols, so a long run of
   * letters or digits costs O(n log n). Stale entries are recognised by their rank no longer being
   * the rank of the pair now at their position.
   */
  private mergeHeap(s: Int32Array, n: number): number {
    const next = new Int32Array(n);
    const prev = new Int32Array(n);
    const alive = new Uint8Array(n).fill(1);
    for (let i = 0; i < n; i++) {
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
    }
    // Keys rank * 2^32 + position order by rank, then leftmost; exact in a double below 2^53.
    const heap: number[] = [];
    const push = (key: number) => {
      let i = heap.push(key) - 1;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (heap[p]! <= key) break;
        heap[i] = heap[p]!;
        i = p;
      }
      heap[i] = key;
    };
    const pop = (): number => {
      const top = heap[0]!;
      const last = heap.pop()!;
      if (heap.length > 0) {
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          if (l >= heap.length) break;
          const c = l + 1 < heap.length && heap[l + 1]! < heap[l]! ? l + 1 : l;
          if (heap[c]! >= last) break;
          heap[i] = heap[c]!;
          i = c;
        }
        heap[i] = last;
      }
      return top;
    };
    const consider = (i: number) => {
      const j = next[i]!;
      if (j < 0) return;
      const r = this.pairs.get(s[i]!, s[j]!);
      if (r >= 0) push(r * 4294967296 + i);
    };
    for (let i = 0; i + 1 < n; i++) consider(i);
    while (heap.length > 0) {
      const key = pop();
      const i = key % 4294967296;
      const rank = (key - i) / 4294967296;
      const j = next[i]!;
      if (alive[i] === 0 || j < 0 || this.pairs.get(s[i]!, s[j]!) !== rank) continue;
      s[i] = this.result[rank]!;
      alive[j] = 0;
      next[i] = next[j]!;
      if (next[j]! >= 0) prev[next[j]!] = i;
      if (prev[i]! >= 0) consider(prev[i]!);
      consider(i);
    }
    let len = 0;
    for (let i = 0; i >= 0 && i < n; i = next[i]!) s[len++] = s[i]!;
    return len;
  }
}
