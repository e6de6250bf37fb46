// Serializes a trained byte-level BPE as a Hugging Face tokenizer folder: tokenizer.json in the
// exact layout GPT-2-style tokenizers use (ByteLevel pre-tokenizer with the GPT-2 regex, BPE
// model with vocab and merges, ByteLevel decoder), and tokenizer_config.json with the special
// tokens and a chat template. Merges are written as "left right" strings, the form every
// version of the tokenizers library reads (byte-level tokens never contain a space).
import type { BpeModel } from './bpe';

export const SPECIAL_TOKENS = ['<|endoftext|>', '<|pad|>', '<|system|>', '<|user|>', '<|assistant|>', '<|end|>'] as const;

/**
 * Chat turns as "<|role|>\ncontent<|end|>\n" after one <|endoftext|> (the BOS, as in pretraining,
 * where it separates documents); the generation prompt opens an assistant turn. Roles are
 * validated by the data layer before rendering, so the template does not raise.
 */
export const CHAT_TEMPLATE =
  "{{ bos_token }}{% for message in messages %}{{ '<|' + message['role'] + '|>\\n' + message['content'] + '<|end|>\\n' }}" +
  "{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}";

/** GPT-2's reversible map from bytes to printable characters (the ByteLevel alphabet). */
export function bytesToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const map: string[] = new Array<string>(256);
  const isPrintable = new Set(printable);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (isPrintable.has(b)) map[b] = String.fromCharCode(b);
    else map[b] = String.fromCharCode(256 + n++);
  }
  return map;
}

function tokenString(bytes: string, alphabet: string[]): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += alphabet[bytes.charCodeAt(i)] ?? '';
  return s;
}

export function specialTokenIds(model: BpeModel): Record<(typeof SPECIAL_TOKENS)[number], number> {
  const out = {} as Record<(typeof SPECIAL_TOKENS)[number], number>;
  SPECIAL_TOKENS.forEach((t, i) => (out[t] = model.tokens.length + i));
  return out;
}

function addedToken(id: number, content: string): Record<string, unknown> {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

export function tokenizerJson(model: BpeModel): string {
  const alphabet = bytesToUnicode();
  const vocab: Record<string, number> = {};
  model.tokens.forEach((t, id) => (vocab[tokenString(t, alphabet)] = id));
  const specials = specialTokenIds(model);
  for (const t of SPECIAL_TOKENS) vocab[t] = specials[t];
  const merges = model.merges.map(([a, b]) => `${tokenString(model.tokens[a] ?? '', alphabet)} ${tokenString(model.tokens[b] ?? '', alphabet)}`);
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((t) => addedToken(specials[t], t)),
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel, trim_offsets: false },
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
  return JSON.stringify(json, null, 2) + '\n';
}

export function tokenizerConfigJson(model: BpeModel): string {
  const specials = specialTokenIds(model);
  const decoder: Record<string, unknown> = {};
  for (const t of SPECIAL_TOKENS) {
    const { id: _id, ...rest } = addedToken(specials[t], t);
    decoder[String(specials[t])] = rest;
  }
  const config = {
    add_bos_token: false,
    add_eos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: decoder,
    bos_token: '<|endoftext|>',
    eos_token: '<|endoftext|>',
    pad_token: '<|pad|>',
    unk_token: null,
    chat_template: CHAT_TEMPLATE,
    clean_up_tokenization_spaces: false,
    tokenizer_class: 'PreTrainedTokenizerFast',
  };
  return JSON.stringify(config, null, 2) + '\n';
}
