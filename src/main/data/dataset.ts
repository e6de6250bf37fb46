// A tokenized dataset: one token cache entry opened for reading, with its deterministic splits
// and the sequences (packed or padded) that samplers and evaluation sets draw from.
import { UserError } from '../../shared/errors';
import type { ExampleKind } from './formats';
import { PackedSequences, PaddedSequences, type PackingMode, type SequenceSource, type Truncation } from './sequences';
import { SPLIT_NAMES, splitExamples, type SplitName, type SplitSpec } from './splits';
import { TokenStore, type TokenCache, type CacheMeta } from './token-cache';
import { tokenizeFile, type TokenizeOptions, type TokenizeResult } from './tokenize';
import type { TextTokenizer } from './tokenizer';

export interface SequenceOptions {
  seqLen: number;
  /** Default: packed for plain text, padded for chats and prompt/completion pairs (one example per row). */
  mode?: PackingMode;
  /** Padded rows: an example longer than seqLen is cut from the left (default: its end, the answer, is kept), from the right, or dropped. */
  truncation?: Truncation;
}

/** The packing a format gets unless the caller chooses. */
export function defaultPacking(format: ExampleKind | null): PackingMode {
  return format === 'text' || format === null ? 'packed' : 'padded';
}

export class TokenizedDataset {
  private readonly store: TokenStore;

  private constructor(
    readonly dir: string,
    readonly meta: CacheMeta,
  ) {
    this.store = new TokenStore(dir, meta);
  }

  /** Opens a complete token cache entry (as returned by `tokenizeFile`). */
  static open(entry: { dir: string; meta: CacheMeta }): TokenizedDataset {
    return new TokenizedDataset(entry.dir, entry.meta);
  }

  /** Tokenizes `file` into `cache` (or reuses the entry) and opens it. */
  static async build(file: string, tokenizer: TextTokenizer, cache: TokenCache, options: TokenizeOptions = {}): Promise<{ dataset: TokenizedDataset; result: TokenizeResult }> {
    const result = await tokenizeFile(file, tokenizer, cache, options);
    return { dataset: TokenizedDataset.open(result), result };
  }

  get format(): ExampleKind | null {
    return this.meta.format;
  }

  get exampleCount(): number {
    return this.store.exampleCount;
  }

  /** Token store access for tests and tools (raw tokens of one example, with loss bits). */
  exampleTokens(i: number): Uint32Array {
    const out = new Uint32Array(this.store.length(i));
    this.store.read(i, 0, out.length, out, 0);
    return out;
  }

  /** Source line of example i. */
  exampleLine(i: number): number {
    return this.store.line(i);
  }

  split(spec: SplitSpec): DatasetSplits {
    return new DatasetSplits(this.store, this.meta, spec);
  }

  close(): void {
    this.store.close();
  }
}

export class DatasetSplits {
  readonly examples: Record<SplitName, Uint32Array>;
  readonly distinct: number;

  constructor(
    private readonly store: TokenStore,
    private readonly meta: CacheMeta,
    readonly spec: SplitSpec,
  ) {
    const r = splitExamples(store, spec);
    this.examples = r.examples;
    this.distinct = r.distinct;
  }

  /** Examples and tokens per split. */
  sizes(): Record<SplitName, { examples: number; tokens: number }> {
    const out = {} as Record<SplitName, { examples: number; tokens: number }>;
    for (const name of SPLIT_NAMES) {
      let tokens = 0;
      for (const i of this.examples[name]) tokens += this.store.length(i);
      out[name] = { examples: this.examples[name].length, tokens };
    }
    return out;
  }

  /** The fixed list of sequences of one split. */
  sequences(split: SplitName, options: SequenceOptions): SequenceSource {
    const mode = options.mode ?? defaultPacking(this.meta.format);
    const examples = this.examples[split];
    if (examples.length === 0) throw new UserError(`the ${split} split of the dataset is empty (split sizes: eval ${this.spec.eval}, test ${this.spec.test})`);
    const padId = this.meta.tokenizer.padId;
    if (mode === 'packed') return new PackedSequences(this.store, examples, options.seqLen, padId);
    const padded = new PaddedSequences(this.store, examples, options.seqLen, padId, options.truncation ?? 'left');
    if (padded.count === 0) throw new UserError(`every example of the ${split} split is longer than ${options.seqLen} tokens, and over-long examples are dropped`);
    return padded;
  }
}
