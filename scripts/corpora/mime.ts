// A minimal RFC 5322 / MIME reader for the email corpus: headers, multipart bodies, quoted-
// printable and base64, and the few charsets that Western mail of the early 2000s uses. It finds
// the first text/plain body of a message or says why there is none. Pure: bytes are carried as
// latin1 strings (one char per byte) until the charset is known.

export interface Headers {
  /** Lower-cased name → first value, unfolded. */
  get(name: string): string | undefined;
}

export interface Part {
  headers: Headers;
  /** Raw body bytes as a latin1 string. */
  body: string;
}

export type PlainText = { ok: true; text: string } | { ok: false; reason: string };

const MAX_DEPTH = 8;

export function parsePart(raw: string): Part {
  const src = raw.replace(/\r\n?/g, '\n');
  const split = src.indexOf('\n\n');
  const head = split < 0 ? src : src.slice(0, split);
  const body = split < 0 ? '' : src.slice(split + 2);
  const map = new Map<string, string>();
  const unfolded = head.replace(/\n[ \t]+/g, ' ');
  for (const line of unfolded.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!map.has(name)) map.set(name, line.slice(colon + 1).trim());
  }
  return { headers: { get: (n) => map.get(n.toLowerCase()) }, body };
}

/** `text/plain; charset="iso-8859-1"` → { type: 'text/plain', params: { charset: 'iso-8859-1' } }. */
export function parseContentType(value: string | undefined): { type: string; params: Record<string, string> } {
  if (!value) return { type: 'text/plain', params: {} };
  const [type = '', ...rest] = value.split(';');
  const params: Record<string, string> = {};
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    const k = p.slice(0, eq).trim().toLowerCase();
    params[k] = p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  return { type: type.trim().toLowerCase() || 'text/plain', params };
}

export function decodeQuotedPrintable(s: string): string {
  return s.replace(/=\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
}

export function decodeBase64(s: string): string {
  return Buffer.from(s.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64').toString('latin1');
}

// Windows-1252's printable characters in 0x80–0x9f; mail labelled iso-8859-1 often means it.
const CP1252: Record<number, string> = {
  0x80: '€', 0x82: '‚', 0x83: 'ƒ', 0x84: '„', 0x85: '…', 0x86: '†', 0x87: '‡', 0x88: 'ˆ', 0x89: '‰', 0x8a: 'Š',
  0x8b: '‹', 0x8c: 'Œ', 0x8e: 'Ž', 0x91: '‘', 0x92: '’', 0x93: '“', 0x94: '”', 0x95: '•', 0x96: '–', 0x97: '—',
  0x98: '˜', 0x99: '™', 0x9a: 'š', 0x9b: '›', 0x9c: 'œ', 0x9e: 'ž', 0x9f: 'Ÿ',
};

const SINGLE_BYTE = new Set(['', 'us-ascii', 'ascii', 'iso-8859-1', 'iso8859-1', 'latin1', 'iso-8859-15', 'windows-1252', 'cp1252']);

/** Bytes (latin1 string) → text, or null for a charset this reader does not handle. */
export function decodeCharset(bytes: string, charset: string): string | null {
  const cs = charset.toLowerCase();
  if (cs === 'utf-8' || cs === 'utf8') {
    const text = Buffer.from(bytes, 'latin1').toString('utf8');
    // Mislabelled single-byte mail decodes to replacement characters; read it as Windows-1252.
    if (!text.includes('\ufffd')) return text;
  } else if (!SINGLE_BYTE.has(cs)) {
    return null;
  }
  return bytes.replace(/[\u0080-\u009f]/g, (c) => CP1252[c.charCodeAt(0)] ?? '');
}

/** RFC 2047 encoded words in a header (=?charset?Q|B?…?=), decoded where the charset is known. */
export function decodeHeader(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (whole, charset: string, enc: string, data: string) => {
      const bytes = enc.toUpperCase() === 'B' ? decodeBase64(data) : decodeQuotedPrintable(data.replace(/_/g, ' '));
      return decodeCharset(bytes, charset) ?? whole;
    });
}

function transferDecode(part: Part): string {
  const cte = (part.headers.get('content-transfer-encoding') ?? '').trim().toLowerCase();
  if (cte === 'quoted-printable') return decodeQuotedPrintable(part.body);
  if (cte === 'base64') return decodeBase64(part.body);
  return part.body;
}

/** The first text/plain body, depth first through multiparts, decoded to text. */
export function plainTextOf(part: Part, depth = 0): PlainText {
  if (depth > MAX_DEPTH) return { ok: false, reason: 'multipart nested too deep' };
  const ct = parseContentType(part.headers.get('content-type'));
  if (ct.type.startsWith('multipart/')) {
    const boundary = ct.params.boundary;
    if (!boundary) return { ok: false, reason: 'multipart without boundary' };
    const delimiter = `--${boundary}`;
    const pieces: string[] = [];
    let current: string[] | null = null;
    for (const line of part.body.split('\n')) {
      if (line.startsWith(delimiter)) {
        if (current) pieces.push(current.join('\n'));
        if (line.startsWith(`${delimiter}--`)) {
          current = null;
          break;
        }
        current = [];
      } else if (current) current.push(line);
    }
    if (current) pieces.push(current.join('\n'));
    let last: PlainText = { ok: false, reason: 'multipart without parts' };
    for (const piece of pieces) {
      last = plainTextOf(parsePart(piece), depth + 1);
      if (last.ok) return last;
    }
    return { ok: false, reason: last.reason === 'multipart without parts' ? last.reason : 'no text/plain part' };
  }
  if (ct.type !== 'text/plain' && ct.type !== 'text') return { ok: false, reason: `body is ${ct.type.split('/')[0] === 'text' ? ct.type : 'not text'}` };
  const text = decodeCharset(transferDecode(part), ct.params.charset ?? '');
  if (text === null) return { ok: false, reason: 'charset not handled' };
  return { ok: true, text };
}
