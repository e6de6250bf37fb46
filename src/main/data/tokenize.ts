// The tokenization pipeline: a data file and a tokenizer in, a token cache entry out. Streams the
// file once (bounded memory), applies the import policy, and reuses an existing entry when the
// content, tokenizer, template and reading options are unchanged.
import { createHash } from 'node:crypto';
import { UserError } from '../../shared/errors';
import { ChatTemplate, TemplateFatalError, TemplateRenderError, DEFAULT_TEMPLATE_LIMITS, type TemplateLimits } from './chat-template';
import { DEFAULT_POLICY, ProblemLog, formatProblem, policyVerdict, type ImportPolicy } from './check';
import { CHAT_MASK_METHOD, EncodeProblem, ExampleEncoder, DEFAULT_ENCODER_OPTIONS, lossCount, type EncoderOptions } from './encode';
import { EXAMPLE_FIELDS, encodeBatch, type LineBatch } from './encode-batch';
import { canonicalParts, type ExampleKind } from './formats';
import { DEFAULT_READ_OPTIONS, readExamples, readLineEvents, type ReadOptions } from './reader';
import { hashFile, inspectSource, type FileKind, type SourceInfo, type StreamedSource } from './source';
import { LengthHistogram, OverLongCounter } from './stats';
import { defaultWorkers, encodeInParallel } from './tokenize-parallel';
import { cacheKey, type CacheInputs, type CacheMeta, type TokenCache } from './token-cache';
import type { TextTokenizer } from './tokenizer';

export interface TokenizeOptions {
  kind?: FileKind;
  read?: Partial<ReadOptions>;
  encoder?: Partial<EncoderOptions>;
  policy?: ImportPolicy;
  templateLimits?: TemplateLimits;
  /** sha256 of the file when already known (a stored dataset's manifest), to skip the hashing pass. */
  contentHash?: string;
  /**
   * The file as the user knows it, for messages: an import tokenizes its working copy, whose
   * temporary path means nothing to the user. Defaults to the path read.
   */
  displayName?: string;
  onProgress?: (p: { bytesRead: number; totalBytes: number; examples: number }) => void;
  /**
   * Worker threads that encode a JSONL file's lines beside this one (0: this thread alone). Default:
   * one per core besides this thread's, at most three and as many as the memory budget allows,
   * for files of 8 MB or more on the fast path. The cache entry is the same either way.
   */
  workers?: number;
  /** The memory the default number of workers keeps within, in MB (default 300). */
  memoryBudgetMB?: number;
}

export interface TokenizeResult {
  dir: string;
  meta: CacheMeta;
  /** True when an existing cache entry was reused. */
  reused: boolean;
  /** Why an entry under the same key was rebuilt, when it was. */
  rebuiltBecause?: string;
  /** Worker threads that encoded beside this one (0 when reused or encoded here alone). */
  workers: number;
}

/** The example format of a file: read up to its first example. */
export async function sniffFormat(info: SourceInfo, read: Partial<ReadOptions> = {}): Promise<ExampleKind | null> {
  if (info.kind === 'text') return 'text';
  const stream = readExamples(info, read);
  try {
    for await (const ev of stream.events) if ('example' in ev) return ev.example.kind;
  } finally {
    await stream.events.return(undefined);
  }
  return null;
}

/** 64 bits of an example's identity (sha256 of its canonical content), as two uint32. */
export function exampleHash(canonical: string | readonly string[]): [number, number] {
  const h = createHash('sha256');
  // A long document goes in slices: hashing it whole would first copy it to UTF-8 in one piece.
  // Slices cut at UTF-16 units, never inside a surrogate pair, hash to the same bytes.
  for (const part of typeof canonical === 'string' ? [canonical] : canonical) {
    for (let at = 0; at < part.length; ) {
      let end = Math.min(part.length, at + (1 << 20));
      if (end < part.length && (part.charCodeAt(end) & 0xfc00) === 0xdc00) end++;
      h.update(part.slice(at, end));
      at = end;
    }
  }
  const d = h.digest();
  return [d.readUInt32BE(0), d.readUInt32BE(4)];
}

function policyError(file: string, reason: string, problems: ProblemLog): UserError {
  const shown = problems.first.slice(0, 3).map((p) => formatProblem(file, p));
  const more = problems.count > shown.length ? ` (and ${problems.count - shown.length} more; \`dynamics datasets check\` lists them)` : '';
  return new UserError(`${file} cannot be used: ${reason}${shown.length > 0 ? `. First problems: ${shown.join('; ')}${more}` : ''}`);
}

export async function tokenizeFile(dataFile: string, tokenizer: TextTokenizer, cache: TokenCache, options: TokenizeOptions = {}): Promise<TokenizeResult> {
  const file = options.displayName ?? dataFile;
  const info = await inspectSource(dataFile, options.kind);
  const read = { ...DEFAULT_READ_OPTIONS, ...options.read };
  const encoderOpts = { ...DEFAULT_ENCODER_OPTIONS, ...options.encoder };
  const contentHash = options.contentHash ?? (await hashFile(dataFile));
  const format = await sniffFormat(info, read);

  let template: ChatTemplate | null = null;
  if (format === 'chat') {
    if (tokenizer.chatTemplate === null) throw new UserError(`${file} holds chats, but the tokenizer of ${tokenizer.origin} has no chat template`);
    template = new ChatTemplate(tokenizer.chatTemplate, tokenizer.origin, { bos: tokenizer.bosToken, eos: tokenizer.eosToken }, options.templateLimits ?? DEFAULT_TEMPLATE_LIMITS);
  }
  const inputs: CacheInputs = {
    contentHash,
    tokenizerHash: tokenizer.hash,
    templateHash: template?.hash ?? null,
    reading: {
      kind: info.kind,
      textMode: info.kind === 'text' ? read.textMode : null,
      maxLineBytes: read.maxLineBytes,
      maxDocumentChars: read.maxDocumentChars,
      maxExampleTokens: encoderOpts.maxExampleTokens,
      maxPrefixRenderMessages: encoderOpts.maxPrefixRenderMessages,
      ...(format === 'chat' ? { chatMasks: CHAT_MASK_METHOD } : {}),
    },
  };
  const key = cacheKey(inputs);
  const found = cache.lookup(key);
  if (found.status === 'hit') return { dir: found.dir, meta: found.meta, reused: true, workers: 0 };
  const rebuiltBecause = found.status === 'stale' ? found.reason : undefined;

  const writer = await cache.writer(inputs);
  try {
    const problems = new ProblemLog();
    const lengths = new LengthHistogram();
    const overLong = new OverLongCounter();
    let lossTokens = 0;
    const progress = (source: StreamedSource) => options.onProgress?.({ bytesRead: source.bytesRead(), totalBytes: info.bytes, examples: writer.examples });
    const workers = info.kind === 'jsonl' ? (options.workers ?? defaultWorkers(info.bytes, options.memoryBudgetMB)) : 0;
    const snapshot = workers > 0 ? tokenizer.snapshot() : null;
    let stream: { source: StreamedSource; kind: () => ExampleKind | null };
    const encoder = new ExampleEncoder(tokenizer, template, encoderOpts);
    if (snapshot) {
      const { lines, source } = readLineEvents(info, read);
      stream = { source, kind: () => format };
      const setup = { tokenizer: snapshot, template: template ? { source: template.source, limits: options.templateLimits ?? DEFAULT_TEMPLATE_LIMITS } : null, encoder: encoderOpts, kind: format };
      const local = (batch: LineBatch, spares: Uint32Array[]) => encodeBatch(batch, encoder, format, spares);
      await encodeInParallel(lines, setup, workers, local, async (r) => {
        for (const p of r.problems) problems.add(p.line, p.problem);
        for (let k = 0, at = 0; k < r.examples.length; k += EXAMPLE_FIELDS) {
          const len = r.examples[k]!;
          await writer.add(r.tokens.subarray(at, at + len), r.examples[k + 1]!, r.examples[k + 2]!, r.examples[k + 3]!);
          lengths.add(len);
          overLong.add(len);
          at += len;
        }
        lossTokens += r.lossTokens;
        if (r.fatal) throw new UserError(`${file}:${r.fatal.line}: ${r.fatal.message}`);
        progress(source);
      });
    } else {
      const examples = readExamples(info, read);
      stream = examples;
      for await (const ev of examples.events) {
        if ('problem' in ev) {
          problems.add(ev.line, ev.problem);
          continue;
        }
        let parts: Uint32Array[];
        // A very long example goes to the shard in parts as it is encoded, never held whole.
        let written = 0;
        let writtenLoss = 0;
        const spill = (part: Uint32Array) => {
          writer.writePartSync(part);
          written += part.length;
          writtenLoss += lossCount(part);
        };
        await writer.prepare();
        try {
          parts = encoder.encodeParts(ev.example, spill);
        } catch (err) {
          writer.dropStreamed();
          if (err instanceof TemplateFatalError) throw new UserError(`${file}:${ev.line}: ${err.message}`);
          if (err instanceof EncodeProblem || err instanceof TemplateRenderError) {
            problems.add(ev.line, err.message);
            continue;
          }
          throw err;
        }
        const [hi, lo] = exampleHash(canonicalParts(ev.example));
        await writer.addParts(parts, hi, lo, ev.line);
        const length = written + parts.reduce((n, p) => n + p.length, 0);
        lossTokens += writtenLoss;
        lengths.add(length);
        overLong.add(length);
        for (const tokens of parts) lossTokens += lossCount(tokens);
        if (writer.examples % 1024 === 0) progress(examples.source);
      }
    }
    if (stream.source.digest() !== contentHash) throw new UserError(`${file} changed while it was being read; try again`);
    const verdict = policyVerdict(writer.examples, problems.count, options.policy ?? DEFAULT_POLICY);
    if (!verdict.usable) throw policyError(file, verdict.reason!, problems);
    const stats = { examples: writer.examples, tokens: writer.tokens, lossTokens, lengths: lengths.toJSON(), overLong: overLong.toJSON(), badRecords: problems.count, problems: problems.first };
    const tokenizerInfo = { origin: tokenizer.origin, vocabSize: tokenizer.vocabSize, eosId: tokenizer.eosId, padId: tokenizer.padId };
    const { dir, meta } = await writer.finish(stream.kind(), tokenizerInfo, stats);
    options.onProgress?.({ bytesRead: info.bytes, totalBytes: info.bytes, examples: writer.examples });
    return { dir, meta, reused: false, workers: snapshot ? workers : 0, ...(rebuiltBecause ? { rebuiltBecause } : {}) };
  } catch (err) {
    await writer.abort();
    throw err;
  }
}
