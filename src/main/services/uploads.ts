// Files uploaded from a browser in chunks (the served UI has no access to the user's disk paths):
// each upload is a folder under the data directory's uploads/ holding one file, written in order,
// capped in size, and removed once imported, discarded, or left for a day.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { InvalidInputError, NotFoundError, UserError } from '../../shared/errors';
import type { UploadTicket } from '../../shared/services/datasets';

export const UPLOAD_LIMITS = {
  /** A decoded chunk; base64 makes it ~5.4 MB of JSON, under the server's 16 MiB body cap. */
  chunkBytes: 4 * 1024 * 1024,
  maxBytes: 1024 * 1024 * 1024,
  /** Uploads open at once. */
  open: 8,
  /** Left-over uploads older than this are swept. */
  maxAgeMs: 24 * 3600 * 1000,
} as const;

interface Upload {
  id: string;
  fileName: string;
  file: string;
  bytes: number;
  received: number;
}

const ID = /^[0-9a-f]{32}$/;

/** A file name safe to create: its last path component, without control characters. */
function safeName(name: string): string {
  const base = [...name.replace(/^.*[\\/]/, '')].filter((c) => c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) !== 0x7f).join('').trim();
  if (base === '' || base === '.' || base === '..') throw new InvalidInputError(`fileName ${JSON.stringify(name)} is not a file name`);
  return base.slice(0, 255);
}

export class Uploads {
  private readonly open = new Map<string, Upload>();

  constructor(
    private readonly root: string,
    private readonly limits: { chunkBytes: number; maxBytes: number; open: number; maxAgeMs: number } = UPLOAD_LIMITS,
    private readonly now: () => number = Date.now,
  ) {
    this.sweep();
  }

  /** Removes uploads left behind by an earlier session, once they are old. */
  private sweep(): void {
    if (!existsSync(this.root)) return;
    for (const name of readdirSync(this.root)) {
      const dir = path.join(this.root, name);
      try {
        if (this.now() - statSync(dir).mtimeMs > this.limits.maxAgeMs) rmSync(dir, { recursive: true, force: true });
      } catch {
        // Another process may be sweeping too.
      }
    }
  }

  begin(fileName: string, bytes: number): UploadTicket {
    const name = safeName(fileName);
    if (bytes > this.limits.maxBytes) {
      throw new UserError(`${name} is ${bytes} bytes; an upload may hold at most ${this.limits.maxBytes} bytes (give its path on this machine instead)`);
    }
    if (this.open.size >= this.limits.open) throw new UserError(`${this.limits.open} uploads are already open; finish or discard one first`);
    const id = randomBytes(16).toString('hex');
    const dir = path.join(this.root, id);
    mkdirSync(dir, { recursive: true });
    this.open.set(id, { id, fileName: name, file: path.join(dir, name), bytes, received: 0 });
    return { uploadId: id, chunkBytes: this.limits.chunkBytes, maxBytes: this.limits.maxBytes };
  }

  private get(id: string): Upload {
    const u = ID.test(id) ? this.open.get(id) : undefined;
    if (!u) throw new NotFoundError(`there is no upload ${JSON.stringify(id)} (it finished, was discarded, or the server restarted)`);
    return u;
  }

  async chunk(id: string, offset: number, base64: string): Promise<{ received: number; complete: boolean }> {
    const u = this.get(id);
    if (offset !== u.received) throw new InvalidInputError(`chunks must arrive in order: expected offset ${u.received}, got ${offset}`);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) throw new InvalidInputError('data must be base64');
    const bytes = Buffer.from(base64, 'base64');
    if (bytes.length === 0) throw new InvalidInputError('a chunk must not be empty');
    if (bytes.length > this.limits.chunkBytes) throw new InvalidInputError(`a chunk may hold at most ${this.limits.chunkBytes} bytes, not ${bytes.length}`);
    if (u.received + bytes.length > u.bytes) throw new InvalidInputError(`the chunks hold more than the ${u.bytes} bytes announced`);
    const fh = await open(u.file, u.received === 0 ? 'w' : 'r+');
    try {
      await fh.write(bytes, 0, bytes.length, u.received);
    } finally {
      await fh.close();
    }
    u.received += bytes.length;
    return { received: u.received, complete: u.received === u.bytes };
  }

  /** The finished upload's file, for reading; refused while chunks are missing. */
  file(id: string): { file: string; fileName: string } {
    const u = this.get(id);
    if (u.received !== u.bytes) throw new UserError(`the upload of ${u.fileName} is incomplete (${u.received} of ${u.bytes} bytes received)`);
    return { file: u.file, fileName: u.fileName };
  }

  discard(id: string): void {
    const u = this.open.get(id);
    if (!u) return;
    this.open.delete(id);
    rmSync(path.dirname(u.file), { recursive: true, force: true });
  }

  /** Removes every open upload (at shutdown). */
  close(): void {
    for (const id of [...this.open.keys()]) this.discard(id);
  }
}
