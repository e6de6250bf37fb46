// Splits a stream of bytes into numbered text lines with bounded memory: a line longer than the
// cap is counted and skipped without being held, CRLF and a leading UTF-8 BOM are removed, and a
// line that is not valid UTF-8 comes back as a problem naming the byte, never as mangled text.
import { TextDecoder } from 'node:util';

/** One line of the file, or the reason it could not be read. Line numbers start at 1. */
export type LineEvent = { line: number; text: string } | { line: number; problem: string };

export interface LineReaderOptions {
  /** Longest line kept, in bytes; longer lines are reported and skipped. */
  maxLineBytes: number;
}

const NEWLINE = 0x0a;
const CR = 0x0d;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

export function formatBytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(1)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} bytes`;
}

/**
 * The offset of the first byte that breaks UTF-8 in `bytes`, or -1. Only called once the fast
 * decoder has refused a line, to say where.
 */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    let need: number;
    let min: number;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

/** Decodes one line, or explains which byte is not UTF-8. */
export function decodeLine(bytes: Uint8Array, decoder: TextDecoder): { text: string } | { problem: string } {
  try {
    return { text: decoder.decode(bytes) };
  } catch {
    const at = firstInvalidUtf8(bytes);
    const byte = bytes[at] ?? 0;
    return { problem: `invalid UTF-8 (byte 0x${byte.toString(16).padStart(2, '0')} at byte ${at + 1} of the line); save the file as UTF-8` };
  }
}

/**
 * Yields the lines of `chunks` in order. Memory stays within about `maxLineBytes` plus one chunk
 * whatever the input: pieces of an over-long line are dropped as they arrive.
 */
export async function* readLines(chunks: AsyncIterable<Uint8Array>, options: LineReaderOptions): AsyncGenerator<LineEvent> {
  // ignoreBOM: the file's own BOM is removed below; a U+FEFF inside a line is content.
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const max = options.maxLineBytes;
  let parts: Uint8Array[] = [];
  let held = 0; // bytes in `parts`
  let overflow = 0; // bytes seen of the current line once it passed the cap (0: not skipping)
  let line = 1;
  let bomSeen = 0; // leading bytes of a BOM seen so far; -1 once past the start of the file

  function finish(tail: Uint8Array | null): LineEvent {
    const n = line++;
    if (overflow > 0) {
      const total = overflow + (tail?.length ?? 0);
      overflow = 0;
      parts = [];
      held = 0;
      return { line: n, problem: `the line is ${formatBytes(total)} long, over the limit of ${formatBytes(max)} per line; it was skipped` };
    }
    let bytes: Uint8Array;
    if (parts.length === 0) bytes = tail ?? new Uint8Array(0);
    else {
      if (tail) parts.push(tail);
      bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      parts = [];
      held = 0;
    }
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === CR) end--;
    const decoded = decodeLine(end === bytes.length ? bytes : bytes.subarray(0, end), decoder);
    return 'text' in decoded ? { line: n, text: decoded.text } : { line: n, problem: decoded.problem };
  }

  function hold(piece: Uint8Array) {
    if (piece.length === 0) return;
    if (overflow > 0) {
      overflow += piece.length;
      return;
    }
    if (held + piece.length > max + 1) {
      // +1 leaves room for a trailing CR that is not part of the line.
      overflow = held + piece.length;
      parts = [];
      held = 0;
      return;
    }
    // Copy: the chunk's buffer may be reused by the stream once we yield.
    parts.push(Buffer.from(piece));
    held += piece.length;
  }

  for await (const raw of chunks) {
    let chunk = raw;
    if (bomSeen >= 0) {
      // The file's BOM may arrive over several chunks (a pipe can deliver one byte at a time).
      let k = 0;
      while (k < chunk.length && bomSeen < 3 && chunk[k] === BOM[bomSeen]) {
        k++;
        bomSeen++;
      }
      if (bomSeen === 3) {
        chunk = chunk.subarray(k);
        bomSeen = -1;
      } else if (k === chunk.length) {
        continue; // all a BOM so far: wait for the next chunk
      } else {
        // Not a BOM: the bytes held back from earlier chunks are content.
        const earlier = bomSeen - k;
        bomSeen = -1;
        if (earlier > 0) chunk = Buffer.concat([BOM.subarray(0, earlier), chunk]);
      }
    }
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl < 0) break;
      const piece = chunk.subarray(start, nl);
      if (overflow === 0 && held + piece.length > max + 1) {
        overflow = held;
        parts = [];
        held = 0;
      }
      yield finish(piece);
      start = nl + 1;
    }
    hold(chunk.subarray(start));
  }
  if (bomSeen > 0) hold(BOM.subarray(0, bomSeen)); // the file is a few bytes of a BOM and nothing else
  if (held > 0 || overflow > 0) yield finish(null);
}
