// Datasets as plain data: formats, the length histogram, problems found while reading a file
// (file:line), and the check report. The data layer (src/main/data) re-exports these definitions;
// the UI receives them through the `datasets` service.

/** How a file's lines are read: JSON objects, or plain text documents. */
export type FileKind = 'jsonl' | 'text';
/** What one example is: loss on everything (`text`), on the completion, or on assistant turns (`chat`). */
export type ExampleKind = 'text' | 'completion' | 'chat';
/** How a text file is cut into documents: blank-line-separated paragraphs, or the whole file. */
export type TextMode = 'paragraphs' | 'file';

export interface HistogramJson {
  count: number;
  total: number;
  min: number;
  max: number;
  /** Bucket k counts lengths in [2^(k-1), 2^k), bucket 0 counts zeros; trailing empty buckets omitted. */
  buckets: { below: number; count: number }[];
}

/**
 * Examples longer than one row of `seqLen` tokens, where each example is one row (chats and
 * prompt/completion pairs; plain text is packed and loses nothing), and what they would lose: cut
 * to the row (from the left, the default, or the right) or dropped whole. Exact, from every
 * example's token count.
 */
export interface OverLongRow {
  seqLen: number;
  examples: number;
  tokensCut: number;
  tokensDropped: number;
}

/**
 * What a run does with one dataset split: a source's train split or a domain's eval or test split,
 * its rows of `seqLen` tokens, and — where each example is one padded row (chats, prompt/completion
 * pairs) — the examples longer than a row, cut (`left`, `right`) or dropped, and the tokens lost.
 * Runs log one per split at step 0 (event data `{kind: "data", ...}`) and write them into their report.
 */
export interface DatasetUse {
  role: 'source' | 'domain';
  id: string;
  dataset: string;
  split: 'train' | 'eval' | 'test';
  seqLen: number;
  rows: number;
  /** Null where the examples are packed (plain text): nothing is cut. */
  truncation: 'left' | 'right' | 'drop' | null;
  /** Examples longer than seqLen: cut, or dropped with `drop`. */
  truncated: number;
  tokensLost: number;
  /** Of the tokens lost, those that carried loss. */
  lossTokensLost: number;
}

/** One bad record of a file: its 1-based line and why it was refused. */
export interface Problem {
  line: number;
  reason: string;
}

export interface CheckReport {
  file: string;
  bytes: number;
  gzip: boolean;
  fileKind: FileKind;
  format: ExampleKind | null;
  examples: number;
  badRecords: number;
  /** The first problems (up to 100), each with its line; `badRecords` counts them all. */
  problems: Problem[];
  /** Length of each example in characters of content. */
  chars: HistogramJson;
  contentHash: string;
  usable: boolean;
  /** Why the file cannot be imported, as one sentence; null when usable. */
  reason: string | null;
}
