// A model folder's tokenizer (tokenizer.json + tokenizer_config.json, read with
// @huggingface/tokenizers) with the special-token policy made explicit: which ids start and end a
// document, the EOS that separates packed documents, the pad id, and the chat template source.
// Byte-level BPE tokenizers encode through our fast path (bpe.ts), the same ids at many times the
// speed; the library encodes the others. Which one is decided once, here, and said by `encodePath`.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { UserError } from '../../shared/errors';
import { ByteLevelBpe, type BpeSnapshot, type IdSink } from './bpe';
import { formatBytes } from './lines';

const MAX_TOKENIZER_JSON = 256 << 20;
const MAX_CONFIG_JSON = 16 << 20;
const MAX_TEMPLATE = 1 << 20;

/** Token ids we store must leave the top bit free (it marks "no loss" in the token cache). */
export const MAX_TOKEN_ID = 0x7fffffff;

/** How a tokenizer encodes: our byte-level BPE, or the library with the reason ours does not apply. */
export type EncodePath = { fast: true } | { fast: false; reason: string };

/** One line for reports: which path encodes, and why not the fast one. */
export function describeEncodePath(p: EncodePath): string {
  return p.fast ? 'fast byte-level BPE' : `@huggingface/tokenizers (${p.reason})`;
}

export interface TextTokenizer {
  /** Folder it was loaded from, for messages. */
  readonly origin: string;
  /** Identity of everything that affects encoding (tokenizer.json and the config minus the chat template). */
  readonly hash: string;
  readonly vocabSize: number;
  readonly bosToken: string | null;
  readonly eosToken: string;
  readonly eosId: number;
  readonly padId: number;
  /** Ids the tokenizer puts before / after one encoded text (e.g. BOS for Llama), per its post-processor and config. */
  readonly prefix: readonly number[];
  readonly suffix: readonly number[];
  /** Text of every special added token (used to find where an assistant turn ends). */
  readonly specialTokens: readonly string[];
  /** The chat template source, or null when the model has none. */
  readonly chatTemplate: string | null;
  readonly encodePath: EncodePath;
  /** Token ids of `text`, without special tokens added around it. */
  encode(text: string): number[];
  /** The same ids handed to `out` one by one: a long document needs no array of them on the fast path. */
  encodeTo(text: string, out: IdSink): void;
  /** The ids of `lines.join("\n")`; the fast path never builds that string (a long document's pieces). */
  encodeLinesTo(lines: readonly string[], out: IdSink): void;
  decode(ids: readonly number[]): string;
  /** What a worker thread needs to encode the same ids, or null where only the library encodes. */
  snapshot(): TokenizerSnapshot | null;
}

/** A fast-path tokenizer as it crosses to a worker thread: its fields and the encoder's tables. */
export interface TokenizerSnapshot {
  origin: string;
  hash: string;
  vocabSize: number;
  bosToken: string | null;
  eosToken: string;
  eosId: number;
  padId: number;
  prefix: number[];
  suffix: number[];
  specialTokens: string[];
  chatTemplate: string | null;
  bpe: BpeSnapshot;
}

/** The tokenizer a worker thread encodes with: the same ids as the one snapshotted; no decoding. */
export class SnapshotTokenizer implements TextTokenizer {
  readonly encodePath: EncodePath = { fast: true };
  readonly origin: string;
  readonly hash: string;
  readonly vocabSize: number;
  readonly bosToken: string | null;
  readonly eosToken: string;
  readonly eosId: number;
  readonly padId: number;
  readonly prefix: readonly number[];
  readonly suffix: readonly number[];
  readonly specialTokens: readonly string[];
  readonly chatTemplate: string | null;
  private readonly bpe: ByteLevelBpe;

  constructor(private readonly snap: TokenizerSnapshot) {
    ({ origin: this.origin, hash: this.hash, vocabSize: this.vocabSize, bosToken: this.bosToken, eosToken: this.eosToken, eosId: this.eosId, padId: this.padId } = snap);
    ({ prefix: this.prefix, suffix: this.suffix, specialTokens: this.specialTokens, chatTemplate: this.chatTemplate } = snap);
    this.bpe = ByteLevelBpe.restore(snap.bpe);
  }

  encode(text: string): number[] {
    return this.bpe.encode(text);
  }

  encodeTo(text: string, out: IdSink): void {
    this.bpe.encodeTo(text, out);
  }

  encodeLinesTo(lines: readonly string[], out: IdSink): void {
    this.bpe.encodeLinesTo(lines, out);
  }

  decode(): string {
    throw new Error('a worker thread\'s tokenizer only encodes');
  }

  snapshot(): TokenizerSnapshot {
    return this.snap;
  }
}

async function readJson(file: string, max: number, what: string): Promise<{ value: Record<string, unknown>; bytes: Buffer }> {
  let st;
  try {
    st = await stat(file);
  } catch {
    throw new UserError(`${file} is missing; a model folder needs ${what}`);
  }
  if (st.size > max) throw new UserError(`${file} is ${formatBytes(st.size)}, more than the limit of ${formatBytes(max)}`);
  const bytes = await readFile(file);
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new UserError(`${file} is not valid JSON (${(err as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UserError(`${file} must hold a JSON object`);
  return { value: value as Record<string, unknown>, bytes };
}

/** A token named in tokenizer_config.json: a string, or an AddedToken object with `content`. */
function tokenText(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return null;
}

function templateFrom(config: Record<string, unknown>, configFile: string): string | null {
  const t = config.chat_template;
  if (t === undefined || t === null) return null;
  if (typeof t === 'string') return t;
  // Several named templates: transformers uses the one named "default".
  if (Array.isArray(t)) {
    const named = t.find((x: unknown) => typeof x === 'object' && x !== null && (x as { name?: unknown }).name === 'default') as { template?: unknown } | undefined;
    if (named && typeof named.template === 'string') return named.template;
  }
  throw new UserError(`${configFile}: "chat_template" must be a string or a list with a template named "default"`);
}

class HfTokenizer implements TextTokenizer {
  readonly encodePath: EncodePath;

  constructor(
    private readonly tok: Tokenizer,
    private readonly fast: ByteLevelBpe | string,
    readonly origin: string,
    readonly hash: string,
    readonly vocabSize: number,
    readonly bosToken: string | null,
    readonly eosToken: string,
    readonly eosId: number,
    readonly padId: number,
    readonly prefix: readonly number[],
    readonly suffix: readonly number[],
    readonly specialTokens: readonly string[],
    readonly chatTemplate: string | null,
  ) {
    this.encodePath = typeof fast === 'string' ? { fast: false, reason: fast } : { fast: true };
  }

  encode(text: string): number[] {
    if (typeof this.fast !== 'string') return this.fast.encode(text);
    return this.tok.encode(text, { add_special_tokens: false }).ids;
  }

  encodeTo(text: string, out: IdSink): void {
    if (typeof this.fast !== 'string') this.fast.encodeTo(text, out);
    else for (const id of this.encode(text)) out.push(id);
  }

  encodeLinesTo(lines: readonly string[], out: IdSink): void {
    if (typeof this.fast !== 'string') this.fast.encodeLinesTo(lines, out);
    else this.encodeTo(lines.join('\n'), out);
  }

  decode(ids: readonly number[]): string {
    return ids.length === 0 ? '' : this.tok.decode([...ids]);
  }

  snapshot(): TokenizerSnapshot | null {
    if (typeof this.fast === 'string') return null;
    const { origin, hash, vocabSize, bosToken, eosToken, eosId, padId, chatTemplate } = this;
    return { origin, hash, vocabSize, bosToken, eosToken, eosId, padId, chatTemplate, prefix: [...this.prefix], suffix: [...this.suffix], specialTokens: [...this.specialTokens], bpe: this.fast.snapshot() };
  }
}

/** Our fast path for this tokenizer, or the reason the library encodes it. */
function fastPath(tj: Record<string, unknown>, config: Record<string, unknown>, tok: Tokenizer): ByteLevelBpe | string {
  try {
    const fast = ByteLevelBpe.create(tj, config, tok.model?.tokens_to_ids);
    return typeof fast === 'string' ? `the fast byte-level BPE does not cover ${fast}` : fast;
  } catch (err) {
    return `the fast byte-level BPE cannot read this configuration: ${(err as Error).message}`;
  }
}

export interface LoadTokenizerOptions {
  /** False encodes through the library even where the fast path applies (the benchmark's reference). */
  fastPath?: boolean;
}

/** Loads the tokenizer of a Hugging Face model folder. Every problem is a UserError naming the file. */
export async function loadTokenizer(dir: string, options: LoadTokenizerOptions = {}): Promise<TextTokenizer> {
  const tokFile = path.join(dir, 'tokenizer.json');
  const cfgFile = path.join(dir, 'tokenizer_config.json');
  if (!existsSync(dir)) throw new UserError(`the tokenizer folder ${dir} does not exist`);
  const tj = await readJson(tokFile, MAX_TOKENIZER_JSON, 'tokenizer.json');
  const cfg = existsSync(cfgFile) ? await readJson(cfgFile, MAX_CONFIG_JSON, 'tokenizer_config.json') : { value: {}, bytes: Buffer.from('{}') };
  const config = cfg.value;

  // transformers ≥ 4.43 saves the template beside the config; that file wins.
  let chatTemplate = templateFrom(config, cfgFile);
  const jinjaFile = path.join(dir, 'chat_template.jinja');
  if (existsSync(jinjaFile)) {
    const st = await stat(jinjaFile);
    if (st.size > MAX_TEMPLATE) throw new UserError(`${jinjaFile} is ${formatBytes(st.size)}, more than the limit of ${formatBytes(MAX_TEMPLATE)}`);
    chatTemplate = await readFile(jinjaFile, 'utf8');
  }
  if (chatTemplate !== null && chatTemplate.length > MAX_TEMPLATE) throw new UserError(`${cfgFile}: the chat template is longer than ${formatBytes(MAX_TEMPLATE)}`);

  const library = (json: Record<string, unknown>): Tokenizer => {
    try {
      return new Tokenizer(json, config);
    } catch (err) {
      throw new UserError(`${tokFile} cannot be loaded: ${(err as Error).message}`);
    }
  };
  // Where our fast path encodes, the library only decodes and names tokens, so it is built without
  // the merges: its table of them (a map keyed by a string per merge) is tens of megabytes for a
  // large vocabulary. Where ours does not apply, the library is built again whole.
  const model = tj.value.model as Record<string, unknown> | undefined;
  const withoutMerges = options.fastPath !== false && model?.type === 'BPE' && Array.isArray(model.merges) && model.merges.length > 0;
  let tok = library(withoutMerges ? { ...tj.value, model: { ...model, merges: [] } } : tj.value);
  const fast = options.fastPath === false ? 'the library was asked for' : fastPath(tj.value, config, tok);
  if (typeof fast === 'string' && withoutMerges) tok = library(tj.value);

  const idOf = (token: string | null, field: string): number | null => {
    if (token === null) return null;
    const id = tok.token_to_id(token);
    if (id === undefined) throw new UserError(`${cfgFile}: ${field} ${JSON.stringify(token)} is not in the vocabulary of ${tokFile}`);
    return id;
  };
  const bosToken = tokenText(config.bos_token);
  const eosToken = tokenText(config.eos_token);
  if (eosToken === null) throw new UserError(`${cfgFile} names no eos_token; packing needs one to separate documents`);
  const bosId = idOf(bosToken, 'bos_token');
  const eosId = idOf(eosToken, 'eos_token')!;
  const padId = idOf(tokenText(config.pad_token), 'pad_token') ?? eosId;

  // What the post-processor adds around one text (Llama adds BOS, GPT-2 and Qwen add nothing);
  // an explicit add_bos_token / add_eos_token in the config overrides it, as in transformers.
  const bare = tok.encode('a', { add_special_tokens: false }).ids;
  const full = tok.encode('a', { add_special_tokens: true }).ids;
  const at = full.findIndex((_, i) => bare.every((b, k) => full[i + k] === b));
  let prefix = at < 0 ? [] : full.slice(0, at);
  let suffix = at < 0 ? [] : full.slice(at + bare.length);
  if (config.add_bos_token === true && bosId !== null && prefix[0] !== bosId) prefix = [bosId, ...prefix];
  if (config.add_bos_token === false) prefix = prefix.filter((id) => id !== bosId);
  if (config.add_eos_token === true && suffix.at(-1) !== eosId) suffix = [...suffix, eosId];
  if (config.add_eos_token === false) suffix = suffix.filter((id) => id !== eosId);

  // The largest id of the vocabulary and the added tokens, read without copying the vocabulary.
  let vocabSize = 0;
  for (const id of (tok.model?.tokens_to_ids ?? tok.get_vocab(true)).values()) vocabSize = Math.max(vocabSize, id + 1);
  if (vocabSize - 1 > MAX_TOKEN_ID) throw new UserError(`${tokFile}: token ids above ${MAX_TOKEN_ID} are not supported`);
  const specialTokens = [...tok.get_added_tokens_decoder().values()].filter((t) => t.special).map((t) => t.content);

  const { chat_template: _t, ...encodingConfig } = config;
  const hash = createHash('sha256').update(tj.bytes).update('\u0000').update(JSON.stringify(encodingConfig)).digest('hex');
  return new HfTokenizer(tok, fast, dir, hash, vocabSize, bosToken, eosToken, eosId, padId, prefix, suffix, specialTokens, chatTemplate);
}
