// A batch of a JSONL file's lines turned into what the token cache takes: every example's tokens
// end to end, its length, content hash and line, and the lines' problems. A worker thread runs
// this on batches it is sent; the results are written in file order, so the cache entry is the
// same byte for byte as the one-thread loop in tokenize.ts makes (tested in tokenize-parallel.test.ts).
import { TemplateFatalError, TemplateRenderError } from './chat-template';
import { EncodeProblem, lossCount, type ExampleEncoder } from './encode';
import { canonicalParts, type ExampleKind } from './formats';
import type { LineEvent } from './lines';
import { jsonlEvent, type JsonlState } from './reader';
import { exampleHash } from './tokenize';

/** Fields per example in `EncodedBatch.examples`: length, hash hi, hash lo, line. */
export const EXAMPLE_FIELDS = 4;

/** A spare buffer is kept only up to this size: one grown for a very long example is let go. */
export const MAX_SPARE_TOKENS = 1 << 22;

export interface LineBatch {
  seq: number;
  lines: LineEvent[];
  /** Whether line 1 of the file was a lone "{" (the pretty-printed JSON hint), as far as read. */
  firstLineOpenBrace: boolean;
}

export interface EncodedBatch {
  seq: number;
  /** Every example's tokens end to end: a view of a buffer to give back once written. */
  tokens: Uint32Array;
  examples: Uint32Array;
  problems: { line: number; problem: string }[];
  lossTokens: number;
  /** A problem that stops the whole import (a template that cannot run), at this line. */
  fatal: { line: number; message: string } | null;
}

/** A batch's token buffer to start with: a megabyte, grown as needed. */
const BATCH_BUFFER_TOKENS = 1 << 18;

/**
 * Encodes a batch. Its tokens go into a buffer taken from `spares` (or a new one), and come back as
 * a view of it: whoever writes them out gives the buffer back to `spares`, so a long file reuses a
 * few buffers instead of leaving one per batch for the garbage collector.
 */
export function encodeBatch(batch: LineBatch, encoder: ExampleEncoder, kind: ExampleKind | null, spares: Uint32Array[] = []): EncodedBatch {
  // The file's format is known before the batches are dealt (it is the first example's), so each
  // batch checks its lines against it exactly as the one-thread reader does once it has seen it.
  const state: JsonlState = { kind, firstLineOpenBrace: batch.firstLineOpenBrace };
  let tokens = spares.pop() ?? new Uint32Array(BATCH_BUFFER_TOKENS);
  let n = 0;
  const examples: number[] = [];
  const problems: { line: number; problem: string }[] = [];
  let lossTokens = 0;
  let fatal: EncodedBatch['fatal'] = null;
  for (const line of batch.lines) {
    const ev = jsonlEvent(line, state);
    if (ev === null) continue;
    if ('problem' in ev) {
      problems.push(ev);
      continue;
    }
    let ids: Uint32Array;
    try {
      ids = encoder.encode(ev.example);
    } catch (err) {
      if (err instanceof TemplateFatalError) {
        fatal = { line: ev.line, message: err.message };
        break;
      }
      if (err instanceof EncodeProblem || err instanceof TemplateRenderError) {
        problems.push({ line: ev.line, problem: err.message });
        continue;
      }
      throw err;
    }
    const [hi, lo] = exampleHash(canonicalParts(ev.example));
    if (n + ids.length > tokens.length) {
      const grown = new Uint32Array(Math.max(tokens.length * 2, n + ids.length));
      grown.set(tokens.subarray(0, n));
      tokens = grown;
    }
    tokens.set(ids, n);
    n += ids.length;
    lossTokens += lossCount(ids);
    examples.push(ids.length, hi, lo, ev.line);
  }
  return { seq: batch.seq, tokens: tokens.subarray(0, n), examples: Uint32Array.from(examples), problems, lossTokens, fatal };
}
