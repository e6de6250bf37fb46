// Small pure helpers shared by the corpus builders: whitespace normalization, hashing, a seeded
// PRNG and UTF-8 byte counts. Everything here is deterministic across machines and Node versions
// (no locale, no ICU-dependent calls), because the corpora are checked against committed hashes.
import { createHash } from 'node:crypto';

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * Line endings to \n, control characters other than \n and \t removed (C1 controls and BOMs
 * included: they are encoding debris, not text), no-break spaces to spaces, trailing spaces cut
 * on every line, runs of blank lines collapsed to one, and blank lines at both ends dropped.
 * Leading indentation is kept: it carries meaning in code, man pages and quoted email.
 */
export function normalizeWhitespace(text: string): string {
  const lines = text
    .replace(/\r\n?/g, '\n')
    // eslint-disable-next-line no-control-regex -- removing control characters is the point
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\ufeff\ufffe\uffff]/g, '')
    .replace(/[\u00a0\u2007\u202f]/g, ' ')
    .split('\n')
    .map((l) => l.replace(/[ \t]+$/, ''));
  const out: string[] = [];
  for (const line of lines) {
    if (line === '' && (out.length === 0 || out[out.length - 1] === '')) continue;
    out.push(line);
  }
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out.join('\n');
}

/**
 * sfc32, a small fast counting PRNG with a 128-bit state, seeded from the SHA-256 of a string.
 * Integer-only arithmetic (Math.imul, >>> 0), so every engine produces the same sequence.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: string) {
    const h = createHash('sha256').update(seed).digest();
    this.a = h.readUInt32LE(0);
    this.b = h.readUInt32LE(4);
    this.c = h.readUInt32LE(8);
    this.d = h.readUInt32LE(12);
    for (let i = 0; i < 16; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** An integer in [lo, hi], both inclusive, without modulo bias (rejection sampling). */
  int(lo: number, hi: number): number {
    const span = hi - lo + 1;
    if (!Number.isInteger(span) || span <= 0 || span > 2 ** 32) throw new Error(`bad range [${lo}, ${hi}]`);
    const limit = Math.floor(2 ** 32 / span) * span;
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return lo + (x % span);
    }
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.int(0, items.length - 1)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }
}

/** Code-unit order (not localeCompare, which depends on ICU data). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Greedy packing of paragraphs (blocks separated by a blank line) into chunks of at most
 * `maxChars`; a single paragraph longer than that stays whole rather than being cut mid-sentence.
 */
export function packParagraphs(paragraphs: readonly string[], maxChars: number, separator = '\n\n'): string[] {
  const chunks: string[] = [];
  let current = '';
  for (const p of paragraphs) {
    if (current === '') current = p;
    else if (current.length + separator.length + p.length <= maxChars) current += separator + p;
    else {
      chunks.push(current);
      current = p;
    }
  }
  if (current !== '') chunks.push(current);
  return chunks;
}
