// datasets.*: the bundled corpora and real imports under a temp data directory — stats, problems
// with their lines, progress events, previews through the model's tokenizer and chat template
// (loss mask from the real encoder), and uploads in chunks.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExampleEncoder, NO_LOSS } from '../../../src/main/data/encode';
import { loadTokenizer } from '../../../src/main/data/tokenizer';
import { ChatTemplate } from '../../../src/main/data/chat-template';
import type { CheckReport } from '../../../src/shared/datasets';
import type { EventEnvelope, EventMap } from '../../../src/shared/events';
import type { DatasetDetails, DatasetPreview, DatasetSummary, UploadTicket } from '../../../src/shared/services/datasets';
import { testCore } from './helpers';

const chat = (user: string, assistant: string) => JSON.stringify({ messages: [{ role: 'user', content: user }, { role: 'assistant', content: assistant }] });

describe('datasets service', () => {
  const core = testCore({ model: 'tiny' });
  const file = (name: string, text: string) => {
    const p = path.join(core.root, name);
    writeFileSync(p, text);
    return p;
  };

  it('lists the bundled corpora with their splits and licenses', async () => {
    const list = await core.call<DatasetSummary[]>('datasets.list');
    const code = list.find((d) => d.id === 'bundled:code')!;
    expect(code).toMatchObject({ origin: 'bundled', format: 'text', badRecords: 0, splits: { train: 399, eval: 116, test: 101 } });
    expect(code.examples).toBe(399 + 116 + 101);
    expect(code.license).toMatch(/lodash.*MIT/);
    expect(list.filter((d) => d.origin === 'bundled').map((d) => d.name)).toEqual(['api-docs', 'arithmetic', 'code', 'dictionary', 'email', 'licenses', 'manpages']);
    const details = await core.call<DatasetDetails>('datasets.get', { id: 'bundled:code' });
    expect(details.chars.count).toBe(code.examples);
  });

  it('imports a file with bad lines: progress events, stats and every problem with its line', async () => {
    const lines = Array.from({ length: 40 }, (_, i) => chat(`question ${i}`, `answer ${i}`));
    lines.splice(10, 0, '{"messages": [{"role": "user"}]}');
    lines.splice(20, 0, 'not json');
    const src = file('chats.jsonl', `${lines.join('\n')}\n`);
    const events: EventMap['dataset.import.progress'][] = [];
    const off = core.bus.subscribe((e: EventEnvelope) => {
      if (e.event === 'dataset.import.progress') events.push(e.payload as EventMap['dataset.import.progress']);
    });
    const d = await core.call<DatasetDetails>('datasets.import', { path: src, name: 'chats', tokenizerModelId: 'bundled:tiny', progressId: 'imp' });
    off();
    expect(d).toMatchObject({ id: 'chats', origin: 'imported', format: 'chat', examples: 40, badRecords: 2, sourceName: 'chats.jsonl' });
    expect(d.problems.map((p) => p.line)).toEqual([11, 21]);
    expect(d.problems[1]!.reason).toMatch(/JSON/);
    expect(d.tokenLengths).toHaveLength(1);
    expect(d.tokenLengths[0]!.examples).toBe(40);
    expect(d.tokenLengths[0]!.lossTokens).toBeGreaterThan(0);
    expect(d.tokenLengths[0]!.lossTokens).toBeLessThan(d.tokenLengths[0]!.tokens);
    // Over-long examples per usual row length: none of these short chats is longer than 128 tokens.
    expect(d.tokenLengths[0]!.overLong![0]).toEqual({ seqLen: 128, examples: 0, tokensCut: 0, tokensDropped: 0 });
    expect(events[0]).toMatchObject({ progressId: 'imp', name: 'chats', phase: 'copying' });
    expect(events.at(-1)).toMatchObject({ phase: 'done', bytesDone: events.at(-1)!.bytesTotal });
    expect((await core.call<DatasetSummary[]>('datasets.list')).some((x) => x.id === 'chats')).toBe(true);
    expect((await core.fail('datasets.import', { path: src, name: 'chats' })).message).toMatch(/already exists/);
  });

  it('refuses a file with too many bad lines, naming file:line', async () => {
    const src = file('bad.jsonl', `${chat('a', 'b')}\n{oops\n{"text": 3}\n`);
    const e = await core.fail('datasets.import', { path: src, name: 'bad' });
    expect(e.name).toBe('UserError');
    expect(e.message).toContain(`${src}:2:`);
    const report = await core.call<CheckReport>('datasets.check', { path: src });
    expect(report).toMatchObject({ usable: false, examples: 1, badRecords: 2 });
    expect(report.problems.map((p) => p.line)).toEqual([2, 3]);
    expect((await core.fail('datasets.check', { path: core.root })).message).toMatch(/is a folder/);
    expect((await core.fail('datasets.check', {})).message).toMatch(/exactly one of path/);
  });

  it('previews examples as the model sees them: template applied, assistant turns trained', async () => {
    const raw = await core.call<DatasetPreview>('datasets.preview', { id: 'chats', count: 2 });
    expect(raw.renderedWith).toBeNull();
    expect(raw.total).toBe(40);
    expect(raw.examples[0]!.segments).toEqual([
      { text: 'question 0', trained: false, role: 'user' },
      { text: 'answer 0', trained: true, role: 'assistant' },
    ]);
    const p = await core.call<DatasetPreview>('datasets.preview', { id: 'chats', count: 3, offset: 1, modelId: 'bundled:tiny' });
    expect(p.renderedWith).toMatch(/chat template/);
    expect(p.examples.map((x) => x.index)).toEqual([1, 2, 3]);
    expect(p.examples[0]!.line).toBe(2);
    const ex = p.examples[0]!;
    const trained = ex.segments.filter((s) => s.trained).map((s) => s.text).join('');
    const masked = ex.segments.filter((s) => !s.trained).map((s) => s.text).join('');
    expect(trained).toContain('answer 1');
    expect(masked).toContain('question 1');
    expect(masked).not.toContain('answer 1');
    // The counts are the training encoder's, on the same example.
    const tok = await loadTokenizer(path.join(core.resources, 'models', 'tiny'));
    const enc = new ExampleEncoder(tok, new ChatTemplate(tok.chatTemplate!, tok.origin, { bos: tok.bosToken, eos: tok.eosToken }));
    const ids = enc.encode({ kind: 'chat', messages: [{ role: 'user', content: 'question 1' }, { role: 'assistant', content: 'answer 1' }] });
    expect(ex.tokens).toBe(ids.length);
    expect(ex.lossTokens).toBe([...ids].filter((x) => (x & NO_LOSS) === 0).length);
  });

  it('previews a bundled corpus split, and text documents are trained on whole', async () => {
    const p = await core.call<DatasetPreview>('datasets.preview', { id: 'bundled:email', count: 1, split: 'eval', modelId: 'bundled:tiny' });
    expect(p.total).toBe(84);
    const segs = p.examples[0]!.segments;
    expect(segs.some((s) => s.trained)).toBe(true);
    expect(p.examples[0]!.truncated || segs.reduce((n, s) => n + s.text.length, 0) > 100).toBe(true);
  });

  it('imports an uploaded file sent in chunks, in order, and cleans up', async () => {
    const text = Array.from({ length: 300 }, (_, i) => JSON.stringify({ prompt: `p${i} `, completion: `c${i}` })).join('\n');
    const bytes = Buffer.from(text);
    const ticket = await core.call<UploadTicket>('datasets.uploadBegin', { fileName: 'upload me.jsonl', bytes: bytes.length });
    expect(ticket.chunkBytes).toBeGreaterThan(0);
    const half = Math.floor(bytes.length / 2);
    expect((await core.fail('datasets.uploadChunk', { uploadId: ticket.uploadId, offset: half, data: bytes.subarray(half).toString('base64') })).message).toMatch(/in order/);
    expect(await core.call('datasets.uploadChunk', { uploadId: ticket.uploadId, offset: 0, data: bytes.subarray(0, half).toString('base64') })).toEqual({ received: half, complete: false });
    expect((await core.fail('datasets.import', { uploadId: ticket.uploadId, name: 'early' })).message).toMatch(/incomplete/);
    expect(await core.call('datasets.uploadChunk', { uploadId: ticket.uploadId, offset: half, data: bytes.subarray(half).toString('base64') })).toEqual({ received: bytes.length, complete: true });
    const report = await core.call<CheckReport>('datasets.check', { uploadId: ticket.uploadId });
    expect(report).toMatchObject({ file: 'upload me.jsonl', examples: 300, usable: true, format: 'completion' });
    const d = await core.call<DatasetDetails>('datasets.import', { uploadId: ticket.uploadId, name: 'uploaded' });
    expect(d).toMatchObject({ examples: 300, sourceName: 'upload me.jsonl', format: 'completion' });
    expect((await core.fail('datasets.uploadChunk', { uploadId: ticket.uploadId, offset: 0, data: 'AA==' })).name).toBe('NotFound');
  });

  it('refuses oversized uploads and names the upload, not its stored path, in errors', async () => {
    expect((await core.fail('datasets.uploadBegin', { fileName: 'huge.jsonl', bytes: 2 ** 31 })).message).toMatch(/at most/);
    const bytes = Buffer.from('\u0000\u0001binary\u0000');
    const t = await core.call<UploadTicket>('datasets.uploadBegin', { fileName: 'x.jsonl', bytes: bytes.length });
    await core.call('datasets.uploadChunk', { uploadId: t.uploadId, offset: 0, data: bytes.toString('base64') });
    const e = await core.fail('datasets.import', { uploadId: t.uploadId, name: 'binary' });
    expect(e.message).toMatch(/^x\.jsonl/);
    expect(e.message).not.toContain(core.root);
    await core.call('datasets.uploadDiscard', { uploadId: t.uploadId });
  });

  it('removes an imported dataset but never a bundled corpus', async () => {
    await core.call('datasets.remove', { id: 'uploaded' });
    expect((await core.fail('datasets.get', { id: 'uploaded' })).name).toBe('NotFound');
    expect((await core.fail('datasets.remove', { id: 'bundled:code' })).message).toMatch(/bundled/);
  });
});
