// The dataset registry on a real data directory: import stores the file and its stats, refuses
// unusable files leaving nothing behind, opens datasets under a tokenizer, and prunes the cache.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NotFoundError, UserError } from '../../../src/shared/errors';
import { dataLayout } from '../../../src/main/paths';
import { JsonDatasetCatalog } from '../../../src/main/data/catalog';
import { DatasetRegistry, loadDataset } from '../../../src/main/data/registry';
import { TokenCache } from '../../../src/main/data/token-cache';
import { loadTokenizer } from '../../../src/main/data/tokenizer';
import { tempDir } from '../../helpers/temp';
import { CHATML, LLAMA3, sentence, writeJsonl } from './helpers';

const dir = tempDir('dynamics-data-reg-');
let n = 0;

function registry() {
  const layout = dataLayout(path.join(dir, `home-${n++}`));
  return { layout, reg: new DatasetRegistry(new JsonDatasetCatalog(layout.datasets), layout.datasets, new TokenCache(layout.tokenCache)) };
}

describe('DatasetRegistry', () => {
  it('imports a file with its stats, and tokenizes it when given a tokenizer', async () => {
    const { layout, reg } = registry();
    const file = writeJsonl(path.join(dir, 'src.jsonl'), [...Array.from({ length: 30 }, (_, i) => ({ text: sentence(i) })), { text: 7 }]);
    const tok = await loadTokenizer(CHATML);
    const m = await reg.import(file, { name: 'web-text', tokenizer: tok });
    expect(m).toMatchObject({ name: 'web-text', format: 'text', fileKind: 'jsonl', file: 'data.jsonl', stats: { examples: 30, badRecords: 1 } });
    expect(m.stats.problems).toEqual([{ line: 31, reason: 'field "text" must be a string, found a number' }]);
    expect(m.stats.chars.count).toBe(30);
    const t = m.tokenized[tok.hash]!;
    expect(t).toMatchObject({ examples: 30, tokenizer: CHATML });
    expect(t.tokens).toBeGreaterThan(30 * 10);
    expect(t.lengths.count).toBe(30);
    expect(existsSync(path.join(layout.datasets, 'web-text', 'data.jsonl'))).toBe(true);
    expect(await reg.list()).toHaveLength(1);
    expect((await loadDataset(path.join(layout.datasets, 'web-text'))).manifest).toEqual(m);
  });

  it('refuses unusable files, bad and taken names, leaving nothing behind', async () => {
    const { layout, reg } = registry();
    const bad = path.join(dir, 'bad.jsonl');
    writeFileSync(bad, 'nope\n{"text": 1}\n');
    await expect(reg.import(bad, { name: 'x' })).rejects.toThrow(/bad\.jsonl cannot be imported: nothing usable remains: all 2 records were refused\. First problems: .*bad\.jsonl:1: invalid JSON/);
    const binary = path.join(dir, 'b.jsonl');
    writeFileSync(binary, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0]));
    await expect(reg.import(binary, { name: 'x' })).rejects.toThrow(/not a text file: it looks like a PNG image/);
    const good = writeJsonl(path.join(dir, 'g.jsonl'), [{ text: 'a' }, { text: 'b' }]);
    await expect(reg.import(good, { name: '../escape' })).rejects.toThrow(UserError);
    await reg.import(good, { name: 'x' });
    await expect(reg.import(good, { name: 'x' })).rejects.toThrow(/a dataset named "x" already exists/);
    expect(readdirSync(layout.datasets)).toEqual(['x']);
  });

  it('imports text files as paragraphs or one document, and gzip keeping its extension', async () => {
    const { reg } = registry();
    const txt = path.join(dir, 'notes.md');
    writeFileSync(txt, '# A\r\n\r\nb\r\nc\r\n');
    expect((await reg.import(txt, { name: 'p' })).stats.examples).toBe(2);
    const whole = await reg.import(txt, { name: 'f', textMode: 'file' });
    expect(whole).toMatchObject({ file: 'data.md', textMode: 'file', stats: { examples: 1 } });
  });

  it('opens a dataset under a tokenizer, recording the token stats once', async () => {
    const { reg } = registry();
    const file = writeJsonl(path.join(dir, 'chat.jsonl'), Array.from({ length: 12 }, (_, i) => ({ messages: [{ role: 'user', content: `q${i}` }, { role: 'assistant', content: sentence(i, 3) }] })));
    await reg.import(file, { name: 'chat' });
    expect((await reg.get('chat')).tokenized).toEqual({});
    const llama = await loadTokenizer(LLAMA3);
    const ds = await reg.tokenized('chat', llama);
    expect(ds.format).toBe('chat');
    expect(ds.exampleCount).toBe(12);
    const stats = (await reg.get('chat')).tokenized[llama.hash]!;
    expect(stats.lossTokens).toBeLessThan(stats.tokens);
    ds.close();
    const byRef = await reg.open('chat', llama);
    expect(byRef.meta.key).toBe(stats.cacheKey);
    byRef.close();
    const byPath = await reg.open(file, llama);
    expect(byPath.meta.key).toBe(stats.cacheKey); // same content, tokenizer and template: same entry
    byPath.close();
    await expect(reg.open('nothing-here', llama)).rejects.toThrow(NotFoundError);
  });

  it('removes datasets and prunes cache entries no dataset uses', async () => {
    const { reg } = registry();
    const tok = await loadTokenizer(CHATML);
    await reg.import(writeJsonl(path.join(dir, 'one.jsonl'), [{ text: 'one' }, { text: 'two' }]), { name: 'one', tokenizer: tok });
    await reg.import(writeJsonl(path.join(dir, 'two.jsonl'), [{ text: 'three' }, { text: 'four' }]), { name: 'two', tokenizer: tok });
    const keyOne = (await reg.get('one')).tokenized[tok.hash]!.cacheKey;
    expect(await reg.pruneCache()).toEqual([]);
    await reg.remove('one');
    await expect(reg.get('one')).rejects.toThrow(/no dataset named "one"/);
    expect(await reg.pruneCache()).toEqual([keyOne]);
    expect((await reg.list()).map((m) => m.name)).toEqual(['two']);
  });
});
