// Opening a user's data file: recognising what it is before parsing (gzip, binary, UTF-16, a JSON
// array where JSONL is expected, empty), and streaming its bytes (decompressed when gzip) with
// the content hash of the stored bytes computed on the way.
import { createHash } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { UserError } from '../../shared/errors';
import type { FileKind } from '../../shared/datasets';

/** How the file's lines are read: JSON objects, or plain text documents (defined in src/shared/datasets.ts). */
export type { FileKind } from '../../shared/datasets';

export interface SourceInfo {
  file: string;
  bytes: number;
  gzip: boolean;
  kind: FileKind;
}

const HEAD_BYTES = 64 * 1024;

const MAGIC: [string, number[]][] = [
  ['a PDF document', [0x25, 0x50, 0x44, 0x46, 0x2d]],
  ['a PNG image', [0x89, 0x50, 0x4e, 0x47]],
  ['a JPEG image', [0xff, 0xd8, 0xff]],
  ['a GIF image', [0x47, 0x49, 0x46, 0x38]],
  ['a ZIP archive (also .docx, .xlsx, .jar)', [0x50, 0x4b, 0x03, 0x04]],
  ['an ELF executable', [0x7f, 0x45, 0x4c, 0x46]],
  ['a SQLite database', [0x53, 0x51, 0x4c, 0x69, 0x74, 0x65, 0x20, 0x66]],
  ['a Parquet file', [0x50, 0x41, 0x52, 0x31]],
  ['a 7-Zip archive', [0x37, 0x7a, 0xbc, 0xaf]],
  ['an xz archive', [0xfd, 0x37, 0x7a, 0x58, 0x5a]],
  ['a bzip2 archive', [0x42, 0x5a, 0x68]],
  ['a zstd archive', [0x28, 0xb5, 0x2f, 0xfd]],
  ['a NumPy array', [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]],
];

function startsWith(buf: Uint8Array, magic: number[]): boolean {
  return magic.every((b, i) => buf[i] === b);
}

/** The kind implied by the name (after removing .gz), or null when the name says nothing. */
export function kindFromName(file: string): FileKind | null {
  const name = file.toLowerCase().replace(/\.gz$/, '');
  const ext = path.extname(name);
  if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') return 'jsonl';
  if (ext === '.txt' || ext === '.md' || ext === '.markdown' || ext === '.text') return 'text';
  return null;
}

async function readHead(file: string, gzip: boolean): Promise<Buffer> {
  if (!gzip) {
    const fh = await open(file, 'r');
    try {
      const buf = Buffer.alloc(HEAD_BYTES);
      const { bytesRead } = await fh.read(buf, 0, HEAD_BYTES, 0);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  }
  const parts: Buffer[] = [];
  let n = 0;
  const raw = createReadStream(file, { highWaterMark: 64 * 1024 });
  const gunzip = createGunzip();
  raw.pipe(gunzip);
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      parts.push(chunk);
      n += chunk.length;
      if (n >= HEAD_BYTES) break;
    }
  } catch (err) {
    throw new UserError(`${file}: the gzip data is corrupt or truncated (${(err as Error).message})`);
  } finally {
    raw.destroy();
    gunzip.destroy();
  }
  return Buffer.concat(parts).subarray(0, HEAD_BYTES);
}

/** Why `head` is not text, or null when it looks like text. */
export function binaryReason(head: Uint8Array): string | null {
  for (const [what, magic] of MAGIC) if (startsWith(head, magic)) return `it looks like ${what}`;
  if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) {
    return 'it is UTF-16 text; save it as UTF-8';
  }
  let control = 0;
  for (let i = 0; i < head.length; i++) {
    const b = head[i]!;
    if (b === 0) return 'it contains NUL bytes, so it is a binary file';
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x0c && b !== 0x1b) control++;
  }
  if (head.length > 0 && control / head.length > 0.05) return 'more than 5% of its first bytes are control characters, so it is a binary file';
  return null;
}

/**
 * Checks that `file` is a non-empty text file of a kind we read, without reading it all. Every
 * refusal is a UserError saying what the file seems to be.
 */
export async function inspectSource(file: string, forced?: FileKind): Promise<SourceInfo> {
  let st;
  try {
    st = await stat(file);
  } catch {
    throw new UserError(`${file} does not exist or cannot be read`);
  }
  if (st.isDirectory()) throw new UserError(`${file} is a folder; give one data file (.jsonl, .txt, .md, optionally .gz)`);
  if (!st.isFile()) throw new UserError(`${file} is not a regular file`);
  if (st.size === 0) throw new UserError(`${file} is empty`);
  const fh = await open(file, 'r');
  const magic = Buffer.alloc(2);
  try {
    await fh.read(magic, 0, 2, 0);
  } finally {
    await fh.close();
  }
  const gzip = magic[0] === 0x1f && magic[1] === 0x8b;
  const head = await readHead(file, gzip);
  if (head.length === 0) throw new UserError(`${file} is empty once decompressed`);
  const binary = binaryReason(head);
  if (binary) throw new UserError(`${file} is not a text file: ${binary}`);
  let body = head;
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) body = body.subarray(3);
  if (body.indexOf(0x0a) < 0 && body.indexOf(0x0d) >= 0 && body.length >= HEAD_BYTES - 3) {
    throw new UserError(`${file} uses old Mac line endings (CR only); convert them to LF or CRLF`);
  }
  let kind = forced ?? kindFromName(file);
  const text = body.toString('utf8');
  const firstChar = /\S/.exec(text)?.[0];
  if (firstChar === undefined && body.length < HEAD_BYTES) throw new UserError(`${file} contains only whitespace`);
  if (kind === null) kind = firstChar === '{' || firstChar === '[' ? 'jsonl' : 'text';
  if (kind === 'jsonl' && firstChar === '[') {
    throw new UserError(
      `${file} holds a JSON array, but datasets are JSONL: one JSON object per line. Convert it, e.g. with \`jq -c '.[]' ${path.basename(file)} > data.jsonl\``,
    );
  }
  return { file, bytes: st.size, gzip, kind };
}

export interface StreamedSource {
  /** The decompressed bytes, in chunks. */
  chunks: AsyncIterable<Buffer>;
  /** Stored bytes read so far (compressed when gzip), for progress. */
  readonly bytesRead: () => number;
  /** sha256 of the stored bytes; valid once `chunks` is exhausted. */
  readonly digest: () => string;
}

/** Streams the file's bytes, decompressed if needed, hashing the stored bytes as they pass. */
export function streamSource(info: SourceInfo, chunkBytes = 1 << 20): StreamedSource {
  const hash = createHash('sha256');
  let read = 0;
  let digest: string | null = null;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      read += chunk.length;
      done(null, chunk);
    },
    flush(done) {
      digest = hash.digest('hex');
      done();
    },
  });
  const raw: ReadStream = createReadStream(info.file, { highWaterMark: chunkBytes });
  const last: Readable = info.gzip ? createGunzip({ chunkSize: 256 * 1024 }) : tap;
  // Errors surface through the iteration below; the pipeline's own promise only tears down.
  const done = (info.gzip ? pipeline(raw, tap, last as Transform) : pipeline(raw, tap)).catch(() => undefined);
  async function* chunks(): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of last as AsyncIterable<Buffer>) yield chunk;
    } catch (err) {
      const msg = (err as Error).message;
      if (info.gzip) throw new UserError(`${info.file}: the gzip data is corrupt or truncated (${msg})`);
      throw new UserError(`${info.file}: reading failed (${msg})`);
    } finally {
      raw.destroy();
      await done;
    }
  }
  return {
    chunks: chunks(),
    bytesRead: () => read,
    digest: () => {
      if (digest === null) throw new Error('the content hash is known only once the whole file was read');
      return digest;
    },
  };
}

/** sha256 of a file's stored bytes. */
export async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) hash.update(chunk);
  return hash.digest('hex');
}
