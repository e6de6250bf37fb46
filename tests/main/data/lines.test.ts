// The line splitter: CRLF, BOM, UTF-8 checks, lines across chunks, and the cap on line length.
import { describe, expect, it } from 'vitest';
import { firstInvalidUtf8, readLines, type LineEvent } from '../../../src/main/data/lines';

async function collect(chunks: (string | Uint8Array)[], maxLineBytes = 1 << 20): Promise<LineEvent[]> {
  async function* source() {
    for (const c of chunks) yield typeof c === 'string' ? Buffer.from(c, 'utf8') : c;
  }
  const out: LineEvent[] = [];
  for await (const ev of readLines(source(), { maxLineBytes })) out.push(ev);
  return out;
}

describe('readLines', () => {
  it('splits LF and CRLF lines, keeps the last line without a newline, numbers from 1', async () => {
    expect(await collect(['a\r\nb\n', '\nc'])).toEqual([
      { line: 1, text: 'a' },
      { line: 2, text: 'b' },
      { line: 3, text: '' },
      { line: 4, text: 'c' },
    ]);
  });

  it('removes a leading BOM only at the start of the file', async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const evs = await collect([Buffer.concat([bom, Buffer.from('x\n'), bom, Buffer.from('y')])]);
    expect(evs).toEqual([
      { line: 1, text: 'x' },
      { line: 2, text: '\ufeffy' },
    ]);
  });

  it('removes the BOM at every chunk size, and keeps bytes that only began like one', async () => {
    const files = [
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"text": "é"}\r\nsecond\n\ufeffthird')]),
      Buffer.from([0xef, 0xbb, 0x41, 0x0a, 0x42]), // two BOM bytes, then content: invalid UTF-8 on line 1
      Buffer.from([0xef, 0xbb]), // nothing but the start of a BOM
      Buffer.from([0xef, 0xbb, 0xbf]), // nothing but a BOM
      Buffer.from('no BOM\n'),
    ];
    const expected = [
      [
        { line: 1, text: '{"text": "é"}' },
        { line: 2, text: 'second' },
        { line: 3, text: '\ufeffthird' },
      ],
      [
        { line: 1, problem: 'invalid UTF-8 (byte 0xef at byte 1 of the line); save the file as UTF-8' },
        { line: 2, text: 'B' },
      ],
      [{ line: 1, problem: 'invalid UTF-8 (byte 0xef at byte 1 of the line); save the file as UTF-8' }],
      [],
      [{ line: 1, text: 'no BOM' }],
    ];
    for (const [i, bytes] of files.entries()) {
      for (let size = 1; size <= bytes.length; size++) {
        const chunks: Uint8Array[] = [new Uint8Array(0)];
        for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
        expect(await collect(chunks), `file ${i}, chunks of ${size} bytes`).toEqual(expected[i]);
      }
    }
  });

  it('joins a line split across chunks, including a multi-byte character cut in two', async () => {
    const bytes = Buffer.from('héllo wörld 日本\n', 'utf8');
    const chunks = [bytes.subarray(0, 2), bytes.subarray(2, 9), bytes.subarray(9, 17), bytes.subarray(17)];
    expect(await collect(chunks)).toEqual([{ line: 1, text: 'héllo wörld 日本' }]);
  });

  it('reports invalid UTF-8 with the byte and its position, and goes on', async () => {
    const evs = await collect([Buffer.concat([Buffer.from('ok\nab'), Buffer.from([0xc3, 0x28]), Buffer.from('\nnext')])]);
    expect(evs[0]).toEqual({ line: 1, text: 'ok' });
    expect(evs[1]).toEqual({ line: 2, problem: expect.stringContaining('invalid UTF-8 (byte 0xc3 at byte 3 of the line)') });
    expect(evs[2]).toEqual({ line: 3, text: 'next' });
  });

  it('skips a line over the cap without holding it, counting its length', async () => {
    const long = 'x'.repeat(3000);
    // The long line arrives in many small chunks, as it would from a file.
    const chunks = ['first\n', ...Array.from({ length: 30 }, (_, k) => long.slice(k * 100, k * 100 + 100)), '\nlast'];
    const evs = await collect(chunks, 1000);
    expect(evs).toEqual([
      { line: 1, text: 'first' },
      { line: 2, problem: 'the line is 2.9 KiB long, over the limit of 1000 bytes per line; it was skipped' },
      { line: 3, text: 'last' },
    ]);
  });

  it('accepts a line of exactly the cap, with or without CR', async () => {
    const s = 'y'.repeat(100);
    expect(await collect([`${s}\r\n${s}\n`], 100)).toEqual([
      { line: 1, text: s },
      { line: 2, text: s },
    ]);
  });
});

describe('firstInvalidUtf8', () => {
  it('finds overlong forms, surrogates and truncated sequences', () => {
    expect(firstInvalidUtf8(Buffer.from('aé日😀', 'utf8'))).toBe(-1);
    expect(firstInvalidUtf8(Uint8Array.from([0x61, 0xc0, 0x80]))).toBe(1); // overlong NUL
    expect(firstInvalidUtf8(Uint8Array.from([0xed, 0xa0, 0x80]))).toBe(0); // UTF-16 surrogate
    expect(firstInvalidUtf8(Uint8Array.from([0x61, 0x62, 0xe6, 0x97]))).toBe(2); // cut short
    expect(firstInvalidUtf8(Uint8Array.from([0xff]))).toBe(0);
  });
});
