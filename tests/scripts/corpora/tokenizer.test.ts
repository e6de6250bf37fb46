// The bundled tokenizer loads in Hugging Face's tokenizers (the JS port the app uses), round-trips
// every domain's eval split exactly, produces the same ids as our own encoder (so the file means
// what our trainer learned), keeps its special tokens whole, and its chat template renders with
// @huggingface/jinja into the chat tokens.
import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BpeEncoder, type BpeModel } from '../../../scripts/corpora/bpe';
import { bytesToUnicode, SPECIAL_TOKENS } from '../../../scripts/corpora/hf-tokenizer';
import { allDomains } from '../../../scripts/corpora/pipeline';

const resources = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'resources');
const tokenizerJson = JSON.parse(readFileSync(path.join(resources, 'tokenizer', 'tokenizer.json'), 'utf8')) as {
  model: { type: string; vocab: Record<string, number>; merges: string[] };
  pre_tokenizer: { type: string; use_regex: boolean; add_prefix_space: boolean };
  decoder: { type: string };
  added_tokens: Array<{ id: number; content: string; special: boolean }>;
};
const config = JSON.parse(readFileSync(path.join(resources, 'tokenizer', 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
const tokenizer = new Tokenizer(tokenizerJson, config);

function evalTexts(domain: string): string[] {
  return readFileSync(path.join(resources, 'corpora', domain, 'eval.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => (JSON.parse(l) as { text: string }).text);
}

/** Our BpeModel read back from tokenizer.json: the inverse of the writer, independent of it. */
function modelFromJson(): BpeModel {
  const alphabet = bytesToUnicode();
  const byteOf = new Map(alphabet.map((c, b) => [c, b]));
  const toBytes = (token: string): string => Array.from(token, (c) => String.fromCharCode(byteOf.get(c) ?? -1)).join('');
  const tokens: string[] = [];
  for (const [token, id] of Object.entries(tokenizerJson.model.vocab)) if (!(SPECIAL_TOKENS as readonly string[]).includes(token)) tokens[id] = toBytes(token);
  const idOf = new Map(tokens.map((t, i) => [t, i]));
  const merges = tokenizerJson.model.merges.map((m): [number, number, number] => {
    const [a = '', b = ''] = m.split(' ');
    const left = idOf.get(toBytes(a));
    const right = idOf.get(toBytes(b));
    const result = idOf.get(toBytes(a) + toBytes(b));
    if (left === undefined || right === undefined || result === undefined) throw new Error(`merge "${m}" refers to a token outside the vocabulary`);
    return [left, right, result];
  });
  return { tokens, merges, counts: [] };
}

describe('bundled tokenizer', () => {
  it('is a Hugging Face byte-level BPE of 4,096 tokens with the special tokens last', () => {
    expect(tokenizerJson.model.type).toBe('BPE');
    expect(tokenizerJson.pre_tokenizer).toMatchObject({ type: 'ByteLevel', use_regex: true, add_prefix_space: false });
    expect(tokenizerJson.decoder.type).toBe('ByteLevel');
    const vocab = tokenizer.get_vocab(true);
    expect(vocab.size).toBe(4096);
    const ids = [...vocab.values()].sort((a, b) => a - b);
    expect(ids).toEqual(Array.from({ length: 4096 }, (_v, i) => i));
    expect(tokenizerJson.added_tokens.map((t) => [t.content, t.id, t.special])).toEqual(SPECIAL_TOKENS.map((t, i) => [t, 4090 + i, true]));
    expect(config).toMatchObject({ bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', pad_token: '<|pad|>' });
  });

  it('keeps every special token whole, also next to text', () => {
    for (const [i, t] of SPECIAL_TOKENS.entries()) {
      expect(tokenizer.encode(t).ids).toEqual([4090 + i]);
      const ids = tokenizer.encode(`a${t}b`).ids;
      expect(ids).toContain(4090 + i);
      expect(tokenizer.decode(ids)).toBe(`a${t}b`);
    }
  });

  it('spells numbers digit by digit', () => {
    const tokens = tokenizer.encode('17 + 2025 = 2042').tokens;
    expect(tokens.filter((t) => /\d/.test(t)).every((t) => /^\d$/.test(t))).toBe(true);
  });

  const ours = new BpeEncoder(modelFromJson());
  for (const { name } of allDomains()) {
    it(`round-trips the ${name} eval split and matches our encoder's ids`, () => {
      const texts = evalTexts(name);
      expect(texts.length).toBeGreaterThan(0);
      for (const text of texts) {
        const ids = tokenizer.encode(text).ids;
        expect(tokenizer.decode(ids) === text, `round trip of a ${name} document`).toBe(true);
        expect(ids).toEqual(ours.encode(text));
      }
    });
  }

  it('renders the chat template into the chat tokens', () => {
    const template = new Template(config.chat_template as string);
    const text = template.render({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'What is 17 + 25?' },
        { role: 'assistant', content: '42' },
      ],
      bos_token: config.bos_token,
      add_generation_prompt: false,
    });
    expect(text).toBe('<|endoftext|><|system|>\nBe brief.<|end|>\n<|user|>\nWhat is 17 + 25?<|end|>\n<|assistant|>\n42<|end|>\n');
    const ids = tokenizer.encode(text).ids;
    expect(ids.filter((id) => id >= 4090)).toEqual([4090, 4092, 4095, 4093, 4095, 4094, 4095]);
    const prompt = template.render({ messages: [{ role: 'user', content: 'Hi' }], bos_token: config.bos_token, add_generation_prompt: true });
    expect(prompt.endsWith('<|end|>\n<|assistant|>\n')).toBe(true);
  });
});
