// Structural checks of a model folder's tokenizer files (tokenizer.json, tokenizer_config.json)
// before anything depends on them: size caps, JSON objects, a known tokenizer model with a
// vocabulary, added tokens with ids and text, and every token id inside the model's vocabulary.
// Encoding itself is the data layer's job (src/main/data/tokenizer.ts); this is what `model info`
// reports and what loading refuses early, one sentence naming the file.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { InvalidInputError } from '../../../shared/errors';
import { readJsonObject } from './files';

const MAX_TOKENIZER_JSON = 256 << 20;
const MAX_TOKENIZER_CONFIG = 16 << 20;
const MODEL_TYPES = ['BPE', 'Unigram', 'WordPiece', 'WordLevel'] as const;

export const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json'] as const;

export interface TokenizerSummary {
  file: string;
  /** BPE, Unigram, WordPiece or WordLevel. */
  model: string;
  /** Distinct token ids of the vocabulary and the added tokens. */
  vocabSize: number;
  /** The largest token id the tokenizer can produce. */
  maxId: number;
  addedTokens: number;
  configFile: string | null;
  bosToken: string | null;
  eosToken: string | null;
  hasChatTemplate: boolean;
}

function tokenText(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return null;
}

/** The tokenizer of `dir`, checked; null when the folder has no tokenizer.json. */
export function checkTokenizerFiles(dir: string, modelVocab: number): TokenizerSummary | null {
  const file = path.join(dir, 'tokenizer.json');
  if (!existsSync(file)) return null;
  const tj = readJsonObject(file, MAX_TOKENIZER_JSON);
  const model = tj.model;
  if (typeof model !== 'object' || model === null || Array.isArray(model)) throw new InvalidInputError(`${file}: field model must be an object (the tokenizer's vocabulary and type)`);
  const m = model as Record<string, unknown>;
  let type = m.type;
  if (type === undefined) {
    // files written by old versions of tokenizers leave the type to be inferred from the fields
    type = m.merges !== undefined ? 'BPE' : Array.isArray(m.vocab) ? 'Unigram' : m.continuing_subword_prefix !== undefined ? 'WordPiece' : 'WordLevel';
  }
  if (typeof type !== 'string' || !(MODEL_TYPES as readonly string[]).includes(type)) {
    throw new InvalidInputError(`${file}: model.type ${JSON.stringify(type)} is not one of ${MODEL_TYPES.join(', ')}`);
  }
  let maxId = -1;
  const ids = new Set<number>();
  const vocab = m.vocab;
  if (Array.isArray(vocab)) {
    for (let i = 0; i < vocab.length; i++) ids.add(i);
    maxId = vocab.length - 1;
  } else if (typeof vocab === 'object' && vocab !== null) {
    for (const [tok, id] of Object.entries(vocab)) {
      if (!Number.isInteger(id) || (id as number) < 0) throw new InvalidInputError(`${file}: model.vocab[${JSON.stringify(tok)}] must be a non-negative integer id`);
      maxId = Math.max(maxId, id as number);
      ids.add(id as number);
    }
  } else {
    throw new InvalidInputError(`${file}: model.vocab is missing or not a list/object`);
  }
  const added = tj.added_tokens ?? [];
  if (!Array.isArray(added)) throw new InvalidInputError(`${file}: field added_tokens must be a list`);
  added.forEach((t: unknown, i) => {
    const o = t as Record<string, unknown> | null;
    if (typeof o !== 'object' || o === null || !Number.isInteger(o.id) || (o.id as number) < 0 || typeof o.content !== 'string') {
      throw new InvalidInputError(`${file}: added_tokens[${i}] must be an object with an integer id and a content string`);
    }
    maxId = Math.max(maxId, o.id as number);
    ids.add(o.id as number);
  });
  if (maxId >= modelVocab) {
    throw new InvalidInputError(`${file} has token id ${maxId} but the model's vocabulary (vocab_size) holds ids 0..${modelVocab - 1} only`);
  }
  const configPath = path.join(dir, 'tokenizer_config.json');
  let config: Record<string, unknown> = {};
  const hasConfig = existsSync(configPath);
  if (hasConfig) config = readJsonObject(configPath, MAX_TOKENIZER_CONFIG);
  return {
    file,
    model: type,
    vocabSize: ids.size,
    maxId,
    addedTokens: added.length,
    configFile: hasConfig ? configPath : null,
    bosToken: tokenText(config.bos_token),
    eosToken: tokenText(config.eos_token),
    hasChatTemplate: (config.chat_template !== undefined && config.chat_template !== null) || existsSync(path.join(dir, 'chat_template.jinja')),
  };
}
