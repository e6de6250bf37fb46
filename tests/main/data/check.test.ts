// Reading real files: every format (with CRLF, BOM, non-ASCII text, gzip) and every broken input the
// issue lists, each giving a clear refusal or a skip reported with its line, never a crash.
import { createWriteStream, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../src/shared/errors';
import { checkFile, policyVerdict } from '../../../src/main/data/check';
import { readExamples } from '../../../src/main/data/reader';
import { inspectSource } from '../../../src/main/data/source';
import { tempDir } from '../../helpers/temp';

const dir = tempDir('dynamics-data-check-');
let n = 0;
function file(name: string, content: string | Buffer): string {
  const p = path.join(dir, `${n++}-${name}`);
  writeFileSync(p, content);
  return p;
}

async function examples(p: string, textMode: 'paragraphs' | 'file' = 'paragraphs') {
  const stream = readExamples(await inspectSource(p), { textMode });
  const out = [];
  for await (const ev of stream.events) out.push(ev);
  return out;
}

async function refusal(p: string): Promise<string> {
  const err = await checkFile(p).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UserError);
  return (err as Error).message;
}

describe('formats', () => {
  it('reads JSONL text with CRLF, a BOM and non-ASCII text', async () => {
    const p = file('t.jsonl', '\ufeff{"text": "Grüße, 世界 😀"}\r\n{"text": "naïve café"}\r\n');
    expect(await examples(p)).toEqual([
      { line: 1, example: { kind: 'text', text: 'Grüße, 世界 😀' } },
      { line: 2, example: { kind: 'text', text: 'naïve café' } },
    ]);
    const r = await checkFile(p);
    expect(r).toMatchObject({ format: 'text', examples: 2, badRecords: 0, usable: true, fileKind: 'jsonl' });
    expect(r.contentHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('reads chats (with OpenAI-style text parts) and prompt/completion pairs', async () => {
    const chat = file('c.jsonl', `${JSON.stringify({ messages: [{ role: 'system', content: 'S' }, { role: 'user', content: [{ type: 'text', text: 'Q' }] }, { role: 'assistant', content: 'A' }] })}\n`);
    expect(await examples(chat)).toEqual([{ line: 1, example: { kind: 'chat', messages: [{ role: 'system', content: 'S' }, { role: 'user', content: 'Q' }, { role: 'assistant', content: 'A' }] } }]);
    const pc = file('p.jsonl', '{"prompt": "2+2=", "completion": "4"}\n{"prompt": "", "completion": "x"}\n');
    expect(await examples(pc)).toEqual([
      { line: 1, example: { kind: 'completion', prompt: '2+2=', completion: '4' } },
      { line: 2, example: { kind: 'completion', prompt: '', completion: 'x' } },
    ]);
  });

  it('splits .txt into paragraphs on blank lines (CRLF too) or keeps one document per file', async () => {
    const p = file('doc.txt', '\ufeffFirst para,\r\nsecond line.\r\n\r\n\r\n  \r\nÜber zwei.\r\n');
    expect(await examples(p)).toEqual([
      { line: 1, example: { kind: 'text', text: 'First para,\nsecond line.' } },
      { line: 6, example: { kind: 'text', text: 'Über zwei.' } },
    ]);
    const md = file('doc.md', '# Title\n\nBody text.\n');
    expect(await examples(md, 'file')).toEqual([{ line: 1, example: { kind: 'text', text: '# Title\n\nBody text.' } }]);
  });

  it('keeps a long document whole: a 3 MB file of short lines and blank paragraphs, per file and per paragraph', async () => {
    const lines: string[] = [];
    for (let i = 1, chars = 0; chars < 3 << 20; i++) {
      lines.push(i % 97 === 0 ? '' : `line ${i} ${'é'.repeat(i % 5)} ${'x'.repeat(i % 300)}`);
      chars += lines.at(-1)!.length + 1;
    }
    const content = `${lines.join('\n')}\n`;
    const p = file('long.txt', content);
    const whole = await examples(p, 'file');
    expect(whole).toHaveLength(1);
    expect(whole[0]).toMatchObject({ line: 1, example: { kind: 'text' } });
    // Held as pieces, the text joined on demand.
    const doc = (whole[0] as { example: { kind: 'text'; text: string; lines?: readonly string[] } }).example;
    expect(doc.text).toBe(content.slice(0, -1));
    expect(doc.lines!.length).toBeGreaterThan(2);
    const paragraphs = await examples(p);
    expect(paragraphs.map((ev) => ('example' in ev && ev.example.kind === 'text' ? ev.example.text : null))).toEqual(content.slice(0, -1).split('\n\n'));
  });

  it('reads gzip by its magic bytes and hashes the stored (compressed) bytes', async () => {
    const gz = gzipSync(Buffer.from('{"text": "a"}\n{"text": "b"}\n'));
    const p = file('g.jsonl.gz', gz);
    const r = await checkFile(p);
    expect(r).toMatchObject({ gzip: true, examples: 2, usable: true });
    const { createHash } = await import('node:crypto');
    expect(r.contentHash).toBe(createHash('sha256').update(gz).digest('hex'));
  });

  it('guesses the kind of a file with an unknown extension from its first character', async () => {
    expect((await inspectSource(file('data.dat', '{"text": "x"}\n'))).kind).toBe('jsonl');
    expect((await inspectSource(file('notes.log', 'hello\n'))).kind).toBe('text');
  });
});

describe('broken input', () => {
  it('skips and reports invalid JSON, wrong field types and invalid UTF-8 with their lines', async () => {
    const p = file(
      'bad.jsonl',
      Buffer.concat([
        Buffer.from('{"text": "good"}\n{"text": "unterminated\n{"text": 5}\n{"messages": "hi"}\n[1, 2]\n{"title": "x"}\n{"text": "'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('"}\n{"prompt": "p", "completion": null}\n{"text": "good too"}\n'),
      ]),
    );
    const r = await checkFile(p, { policy: { maxBadShare: 1 } });
    expect(r.examples).toBe(2);
    expect(r.problems.map((x) => [x.line, x.reason.replace(/\(.*\)/, '(…)')])).toEqual([
      [2, 'invalid JSON (…)'],
      [3, 'field "text" must be a string, found a number'],
      [4, 'field "messages" must be an array, found a string'],
      [5, 'expected a JSON object, found an array'],
      [6, 'no "text", "messages" or "prompt"/"completion" field (…)'],
      [7, 'invalid UTF-8 (…); save the file as UTF-8'],
      [8, 'field "completion" must be a string, found null'],
    ]);
    expect(r.problems[5]!.reason).toContain('byte 0xff at byte 11 of the line');
    expect(r.usable).toBe(true);
  });

  it('reports a chat without an assistant turn, and bad roles', async () => {
    const p = file(
      'chat.jsonl',
      [
        { messages: [{ role: 'user', content: 'hi' }] },
        { messages: [{ role: 'robot', content: 'x' }, { role: 'assistant', content: 'y' }] },
        { messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 42 }] },
        { messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }] },
      ]
        .map((x) => JSON.stringify(x))
        .join('\n'),
    );
    const r = await checkFile(p, { policy: { maxBadShare: 1 } });
    expect(r.problems).toEqual([
      { line: 1, reason: 'the conversation has no assistant turn, so there is nothing to train on' },
      { line: 2, reason: 'messages[0].role must be "system", "user", "assistant" or "tool", found "robot"' },
      { line: 3, reason: 'messages[1].content must be a string, found a number' },
    ]);
    expect(r.examples).toBe(1);
  });

  it('reads tool-use chats (tool_calls, role tool, a tools list) and reports broken ones', async () => {
    const call = (args: unknown) => ({ type: 'function', function: { name: 'f', arguments: args } });
    const turn = (extra: Record<string, unknown>) => ({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: null, ...extra }, { role: 'tool', content: 'r', tool_call_id: 'c1' }, { role: 'assistant', content: 'a' }] });
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = { x: deep };
    const rows = [
      { ...turn({ tool_calls: [{ ...call({ x: 1 }), id: 'c1' }] }), tools: [{ type: 'function', function: { name: 'f' } }] },
      turn({ tool_calls: [call('{"x": 1}')] }), // arguments as a JSON string, as OpenAI writes them
      turn({ tool_calls: {} }),
      turn({ tool_calls: [{ type: 'function', function: { arguments: {} } }] }),
      turn({ tool_calls: [{ type: 'retrieval', function: { name: 'f', arguments: {} } }] }),
      turn({ tool_calls: [call(deep)] }),
      turn({ tool_calls: Array.from({ length: 129 }, () => call({})) }),
      { ...turn({ tool_calls: [call({})] }), tools: 'f' },
      { messages: [{ role: 'user', content: 'q', tool_calls: [call({})] }, { role: 'assistant', content: 'a' }] },
      { messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: null }] },
      { messages: [{ role: 'tool', content: 'r', tool_call_id: 7 }, { role: 'assistant', content: 'a' }] },
    ];
    const r = await checkFile(file('tools.jsonl', rows.map((x) => JSON.stringify(x)).join('\n')), { policy: { maxBadShare: 1 } });
    expect(r.problems).toEqual([
      { line: 3, reason: 'messages[1].tool_calls must be an array, found an object' },
      { line: 4, reason: 'messages[1].tool_calls[0].function.name is missing' },
      { line: 5, reason: 'messages[1].tool_calls[0].type must be "function", found "retrieval"' },
      { line: 6, reason: 'messages[1].tool_calls[0].function.arguments is nested more than 32 levels deep' },
      { line: 7, reason: 'messages[1].tool_calls has 129 calls, more than the limit of 128' },
      { line: 8, reason: 'field "tools" must be an array, found a string' },
      { line: 9, reason: 'messages[0] has "tool_calls", which only assistant messages may have' },
      { line: 10, reason: 'messages[1].content must be a string, found null' },
      { line: 11, reason: 'messages[0].tool_call_id must be a string, found a number' },
    ]);
    expect(r.examples).toBe(2);
  });

  it('refuses a file that mixes formats line by line', async () => {
    const p = file('mixed.jsonl', '{"text": "a"}\n{"prompt": "p", "completion": "c"}\n');
    const r = await checkFile(p, { policy: { maxBadShare: 1 } });
    expect(r.problems[0]).toEqual({ line: 2, reason: expect.stringContaining('a dataset holds one format') });
  });

  it('refuses an empty file, a whitespace-only file, a folder and a missing file', async () => {
    expect(await refusal(file('empty.jsonl', ''))).toMatch(/empty\.jsonl is empty$/);
    expect(await refusal(file('blank.jsonl', '  \n\n \r\n'))).toMatch(/contains only whitespace$/);
    expect(await refusal(dir)).toMatch(/is a folder/);
    expect(await refusal(path.join(dir, 'nope.jsonl'))).toMatch(/does not exist/);
  });

  it('refuses binary files, naming what they look like', async () => {
    expect(await refusal(file('x.jsonl', Buffer.from([0x50, 0x4b, 0x03, 0x04, 1, 2, 3])))).toMatch(/not a text file: it looks like a ZIP archive/);
    const noise = Buffer.alloc(4096);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 7919) & 0xff;
    expect(await refusal(file('noise.txt', noise))).toMatch(/not a text file: it contains NUL bytes/);
    expect(await refusal(file('u16.txt', Buffer.from('\ufeffhello', 'utf16le')))).toMatch(/UTF-16 text; save it as UTF-8/);
    expect(await refusal(file('gz.jsonl', gzipSync(Buffer.from([0, 1, 2, 3, 0, 0]))))).toMatch(/not a text file/);
  });

  it('recognises a JSON array given as JSONL and explains the conversion', async () => {
    const msg = await refusal(file('arr.jsonl', '\ufeff  [\n  {"text": "a"},\n  {"text": "b"}\n]\n'));
    expect(msg).toMatch(/holds a JSON array, but datasets are JSONL: one JSON object per line/);
    expect(msg).toContain("jq -c '.[]'");
  });

  it('hints at pretty-printed JSON', async () => {
    const r = await checkFile(file('pretty.jsonl', '{\n  "text": "a"\n}\n'));
    expect(r.usable).toBe(false);
    expect(r.problems[0]!.reason).toMatch(/looks like pretty-printed JSON/);
  });

  it('refuses a corrupt gzip file with a sentence', async () => {
    const gz = gzipSync(Buffer.from('{"text": "a"}\n'.repeat(1000)));
    expect(await refusal(file('cut.jsonl.gz', gz.subarray(0, gz.length - 20)))).toMatch(/gzip data is corrupt or truncated/);
  });

  it('skips a 50 MB single line with a clear message instead of loading it', async () => {
    const p = path.join(dir, 'huge.jsonl');
    await new Promise<void>((resolve, reject) => {
      const out = createWriteStream(p);
      out.on('error', reject);
      out.write('{"text": "short"}\n{"text": "');
      const block = 'z'.repeat(1 << 20);
      for (let i = 0; i < 50; i++) out.write(block);
      out.write('"}\n{"text": "after"}\n');
      out.end(resolve);
    });
    const r = await checkFile(p, { policy: { maxBadShare: 0.5 } });
    expect(r.examples).toBe(2);
    expect(r.problems).toEqual([{ line: 2, reason: 'the line is 50.0 MiB long, over the limit of 16.0 MiB per line; it was skipped' }]);
  });

  it('skips an over-long paragraph of a text file', async () => {
    const p = file('long.txt', `short\n\n${'w '.repeat(600)}\n\nend\n`);
    const stream = readExamples(await inspectSource(p), { maxDocumentChars: 1000 });
    const evs = [];
    for await (const ev of stream.events) evs.push(ev);
    expect(evs.map((e) => ('problem' in e ? `P${e.line}` : `E${e.line}`))).toEqual(['E1', 'P3', 'E5']);
  });
});

describe('import policy', () => {
  it('fails when nothing usable remains or the bad share is over the limit', async () => {
    expect(policyVerdict(0, 0, { maxBadShare: 0.1 })).toEqual({ usable: false, reason: 'the file holds no examples' });
    expect(policyVerdict(0, 3, { maxBadShare: 1 }).reason).toBe('nothing usable remains: all 3 records were refused');
    expect(policyVerdict(9, 1, { maxBadShare: 0.1 }).usable).toBe(true);
    expect(policyVerdict(8, 2, { maxBadShare: 0.1 }).reason).toBe('20.0% of the records are bad (2 of 10), more than the allowed 10.0%');
  });

  it('applies to a whole file', async () => {
    const p = file('half.jsonl', '{"text": "a"}\nnot json\n');
    expect(await checkFile(p)).toMatchObject({ usable: false, reason: expect.stringContaining('50.0% of the records are bad') });
    expect(await checkFile(p, { policy: { maxBadShare: 0.5 } })).toMatchObject({ usable: true });
    const none = await checkFile(file('none.jsonl', 'nope\n{"x": 1}\n'));
    expect(none).toMatchObject({ usable: false, examples: 0, reason: 'nothing usable remains: all 2 records were refused' });
  });
});
