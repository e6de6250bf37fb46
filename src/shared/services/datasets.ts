// datasets.*: the data a run trains and evaluates on — the corpora bundled with the app and the
// files the user imported — with their stats, their problems (file:line), and a preview of
// examples as the model will see them (chat template applied, loss-masked parts marked).
//
// Choosing a file: the core reads paths on its own machine. In the desktop app the `dialog`
// service opens a native picker; in a browser (`dynamics serve`) the user types a server-side path
// or picks one with `files.places`/`files.list`, or uploads a local file: `uploadBegin`, then
// `uploadChunk` calls of at most `chunkBytes` each (base64), then `import({uploadId})`. Uploads are
// capped (`maxBytes`) and kept under the data directory until imported or discarded.
import { z } from 'zod';
import type { CheckReport, ExampleKind, FileKind, HistogramJson, OverLongRow, Problem, TextMode } from '../datasets';
import { method } from '../rpc';

/** What a run configuration's `dataset` field takes: `bundled:NAME` or an imported dataset's name. */
export const datasetIdSchema = z.string().min(1).max(200);

export type DatasetOrigin = 'bundled' | 'imported';

export interface TokenCounts {
  /** The tokenizer's origin (the model folder it came from). */
  tokenizer: string;
  examples: number;
  tokens: number;
  /** Tokens that carry loss (completions, assistant turns, all of a text). */
  lossTokens: number;
}

export interface DatasetSummary {
  /** What run configurations use as `dataset`. */
  id: string;
  name: string;
  origin: DatasetOrigin;
  format: ExampleKind;
  fileKind: FileKind;
  examples: number;
  badRecords: number;
  /** Size of the stored data (all splits for a pre-split corpus). */
  bytes: number;
  /** The file the user imported (its name), or the corpus folder. */
  sourceName: string;
  /** Examples per split when the dataset ships its own splits (bundled corpora); null when split by key at run time. */
  splits: { train: number; eval: number; test: number } | null;
  /** Token counts under each tokenizer it has been tokenized with. */
  tokens: TokenCounts[];
  /** ms since the epoch; null for bundled corpora. */
  createdAt: number | null;
  /** Bundled corpora: where the text comes from and under which license. */
  license: string | null;
}

export interface DatasetDetails extends DatasetSummary {
  /** Example lengths in characters. */
  chars: HistogramJson;
  /**
   * Example lengths in tokens, per tokenizer, and per usual row length the examples longer than a
   * row with the tokens they lose (null where not counted: datasets tokenized by an older version).
   */
  tokenLengths: (TokenCounts & { lengths: HistogramJson; overLong: OverLongRow[] | null })[];
  /** The first bad records with their lines (`badRecords` counts all of them). */
  problems: Problem[];
  /** The stored data file (or folder) on the core's machine, for messages like file:line. */
  file: string;
  contentHash: string | null;
}

export interface PreviewSegment {
  text: string;
  /** True where the tokens carry loss (what the model is trained to produce). */
  trained: boolean;
  /** The chat turn the text belongs to; null for text outside turns (template markup, plain text). */
  role: 'system' | 'user' | 'assistant' | null;
}

export interface PreviewExample {
  /** 0-based position in the file (or split). */
  index: number;
  /** 1-based line in the stored file, for messages; null when not line-based. */
  line: number | null;
  kind: ExampleKind;
  segments: PreviewSegment[];
  /** Token count under the model's tokenizer; null without a model. */
  tokens: number | null;
  lossTokens: number | null;
  /** Segments were cut to keep the preview small. */
  truncated: boolean;
}

export interface DatasetPreview {
  id: string;
  /** The tokenizer and chat template used, in words; null without a model (raw fields shown). */
  renderedWith: string | null;
  examples: PreviewExample[];
  /** Examples in the dataset (or split). */
  total: number;
}

export type DatasetImportPhase = 'uploading' | 'copying' | 'checking' | 'tokenizing' | 'done';

export interface UploadTicket {
  uploadId: string;
  /** Largest decoded chunk `uploadChunk` accepts. */
  chunkBytes: number;
  /** Largest file an upload may hold. */
  maxBytes: number;
}

/** Where a file comes from: a path on the core's machine, or a finished upload. */
const fileSource = {
  path: z.string().min(1).max(4096).optional(),
  uploadId: z.string().min(1).max(100).optional(),
};
const oneSource = (v: { path?: string | undefined; uploadId?: string | undefined }) => (v.path === undefined) !== (v.uploadId === undefined);
const oneSourceMessage = { message: 'give exactly one of path (a file on the machine running DynaMiCS) or uploadId (an uploaded file)' };

export const datasetsService = {
  /** Bundled corpora first, then imported datasets by name. */
  list: method(z.undefined()).returns<DatasetSummary[]>(),
  get: method(z.strictObject({ id: datasetIdSchema })).returns<DatasetDetails>(),
  /**
   * Examples as the model will see them: with `modelId`, rendered with its chat template and
   * tokenized, segments marked trained or loss-masked from the real loss mask; without, the raw
   * fields with the same marking by format.
   */
  preview: method(
    z.strictObject({
      id: datasetIdSchema,
      count: z.number().int().min(1).max(50).default(5),
      offset: z.number().int().min(0).max(1e9).default(0),
      split: z.enum(['train', 'eval', 'test']).optional(),
      modelId: z.string().min(1).max(300).optional(),
    }),
  ).returns<DatasetPreview>(),
  /** Reads a file and reports its problems with their lines, without importing it. */
  check: method(z.strictObject({ ...fileSource, format: z.enum(['jsonl', 'text']).optional() }).refine(oneSource, oneSourceMessage)).returns<CheckReport>(),
  /**
   * Checks and stores a file as a named dataset (bad records are skipped and reported; the import
   * fails with the first problems when too many are bad). With `tokenizerModelId`, also tokenizes
   * it. `dataset.import.progress` events carry `progressId`.
   */
  import: method(
    z
      .strictObject({
        ...fileSource,
        name: z.string().min(1).max(64),
        tokenizerModelId: z.string().min(1).max(300).optional(),
        format: z.enum(['jsonl', 'text']).optional(),
        textMode: z.enum(['paragraphs', 'file']).optional(),
        /** Largest share of bad records accepted (default 0.1). */
        maxBadShare: z.number().min(0).max(1).optional(),
        progressId: z.string().min(1).max(100).optional(),
      })
      .refine(oneSource, oneSourceMessage),
  ).returns<DatasetDetails>(),
  /** Deletes an imported dataset's stored copy; bundled corpora cannot be removed. */
  remove: method(z.strictObject({ id: datasetIdSchema })).returns<void>(),
  /** Starts an upload of a local file from a browser. */
  uploadBegin: method(z.strictObject({ fileName: z.string().min(1).max(255), bytes: z.number().int().min(1) })).returns<UploadTicket>(),
  /** One chunk, base64, at `offset` (chunks are sent in order). Returns the bytes received so far. */
  uploadChunk: method(
    z.strictObject({ uploadId: z.string().min(1).max(100), offset: z.number().int().min(0), data: z.string().max(12 * 1024 * 1024) }),
  ).returns<{ received: number; complete: boolean }>(),
  uploadDiscard: method(z.strictObject({ uploadId: z.string().min(1).max(100) })).returns<void>(),
};

export type { CheckReport, ExampleKind, FileKind, HistogramJson, Problem, TextMode };
