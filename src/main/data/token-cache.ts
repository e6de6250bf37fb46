// The on-disk token cache: one folder per (content, tokenizer, template, reading options), named by
// the hash of those inputs, holding binary token shards and an index. Entries are written under a
// temporary name and renamed when complete, so a crash leaves no half entry under a real key; an
// entry whose files do not match its meta (truncated, edited, from another format version) is
// reported stale and rebuilt.
//
// Layout of <cache>/<key>/:
//   meta.json          inputs, counts, stats, shard list (written last)
//   shard-00000.bin    uint32 little-endian per token: id | 0x80000000 when the token has no loss
//   index.bin          6 × uint32 per example: shard, offset (tokens), length, hash hi, hash lo, line
import { closeSync, existsSync, ftruncateSync, openSync, readFileSync, readSync, statSync, writeSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { ExampleKind } from './formats';
import type { HistogramJson, OverLongRow } from './stats';
import type { Problem } from './check';

export const CACHE_FORMAT_VERSION = 1;
export const INDEX_FIELDS = 6;
const DEFAULT_SHARD_TOKENS = 1 << 26; // 256 MiB of tokens per shard

/** Everything the cached tokens depend on. Equal inputs ⇒ equal tokens. */
export interface CacheInputs {
  contentHash: string;
  tokenizerHash: string;
  /** Null when the data uses no chat template. */
  templateHash: string | null;
  /** How the file was read and encoded (file kind, text mode, caps): anything that changes the tokens. */
  reading: Record<string, string | number | boolean | null>;
}

export interface CacheStats {
  examples: number;
  tokens: number;
  lossTokens: number;
  lengths: HistogramJson;
  /** Per row length, the examples longer than it and what they lose (absent in entries from before it was counted). */
  overLong?: OverLongRow[];
  badRecords: number;
  problems: Problem[];
}

/** What a reader needs of the tokenizer the entry was made with. */
export interface CacheTokenizerInfo {
  origin: string;
  vocabSize: number;
  eosId: number;
  padId: number;
}

export interface CacheMeta {
  version: number;
  key: string;
  inputs: CacheInputs;
  tokenizer: CacheTokenizerInfo;
  format: ExampleKind | null;
  createdAt: string;
  shards: { file: string; tokens: number }[];
  stats: CacheStats;
}

export function cacheKey(inputs: CacheInputs): string {
  const canonical = JSON.stringify({ v: CACHE_FORMAT_VERSION, ...inputs, reading: Object.fromEntries(Object.entries(inputs.reading).sort()) });
  return createHash('sha256').update(canonical).digest('hex').slice(0, 40);
}

export type Lookup = { status: 'hit'; dir: string; meta: CacheMeta } | { status: 'missing' } | { status: 'stale'; reason: string };

/** Checks an entry folder's files against its meta; returns the reason it is unusable, or null. */
function validate(dir: string, key: string): { meta: CacheMeta } | { reason: string } {
  let meta: CacheMeta;
  try {
    meta = JSON.parse(readFileSync(path.join(dir, 'meta.json'), 'utf8')) as CacheMeta;
  } catch {
    return { reason: 'its meta.json is missing or unreadable' };
  }
  if (meta.version !== CACHE_FORMAT_VERSION) return { reason: `it was written in cache format ${meta.version}, this version reads ${CACHE_FORMAT_VERSION}` };
  if (meta.key !== key || cacheKey(meta.inputs) !== key) return { reason: 'its inputs do not match its key' };
  try {
    const indexBytes = statSync(path.join(dir, 'index.bin')).size;
    if (indexBytes !== meta.stats.examples * INDEX_FIELDS * 4) return { reason: 'its index does not match its example count' };
    for (const s of meta.shards) {
      if (statSync(path.join(dir, s.file)).size !== s.tokens * 4) return { reason: `${s.file} does not match its token count` };
    }
  } catch {
    return { reason: 'one of its files is missing' };
  }
  return { meta };
}

export class TokenCache {
  constructor(readonly dir: string) {}

  lookup(key: string): Lookup {
    const dir = path.join(this.dir, key);
    if (!existsSync(dir)) return { status: 'missing' };
    const v = validate(dir, key);
    return 'meta' in v ? { status: 'hit', dir, meta: v.meta } : { status: 'stale', reason: v.reason };
  }

  /** Removes an entry (stale, or no longer wanted). */
  async remove(key: string): Promise<void> {
    await rm(path.join(this.dir, key), { recursive: true, force: true });
  }

  async writer(inputs: CacheInputs, shardTokens = DEFAULT_SHARD_TOKENS): Promise<TokenCacheWriter> {
    if (os.endianness() !== 'LE') throw new Error('the token cache needs a little-endian machine');
    const key = cacheKey(inputs);
    const tmp = path.join(this.dir, `.partial-${key}-${process.pid}-${randomBytes(4).toString('hex')}`);
    await mkdir(tmp, { recursive: true });
    return new TokenCacheWriter(this, key, inputs, tmp, shardTokens);
  }

  /** Every complete entry's meta, and every entry that fails validation with the reason. */
  async entries(): Promise<{ key: string; meta?: CacheMeta; stale?: string }[]> {
    if (!existsSync(this.dir)) return [];
    const out: { key: string; meta?: CacheMeta; stale?: string }[] = [];
    for (const name of (await readdir(this.dir)).sort()) {
      if (name.startsWith('.')) continue;
      const v = validate(path.join(this.dir, name), name);
      out.push('meta' in v ? { key: name, meta: v.meta } : { key: name, stale: v.reason });
    }
    return out;
  }

  /**
   * Deletes stale entries, entries `keep` rejects, and partial folders older than `partialAgeMs`
   * (a crashed writer's leftovers). Returns the keys removed.
   */
  async prune(keep: (meta: CacheMeta) => boolean = () => true, partialAgeMs = 3_600_000): Promise<string[]> {
    const removed: string[] = [];
    for (const e of await this.entries()) {
      if (e.stale || (e.meta && !keep(e.meta))) {
        await this.remove(e.key);
        removed.push(e.key);
      }
    }
    if (existsSync(this.dir)) {
      for (const name of await readdir(this.dir)) {
        if (!name.startsWith('.partial-')) continue;
        const st = await stat(path.join(this.dir, name));
        if (Date.now() - st.mtimeMs > partialAgeMs) {
          await rm(path.join(this.dir, name), { recursive: true, force: true });
          removed.push(name);
        }
      }
    }
    return removed;
  }
}

const WRITE_BUFFER_TOKENS = 1 << 20;

/** Appends examples to shards with a fixed-size buffer; `finish` publishes the entry atomically. */
export class TokenCacheWriter {
  private shard = -1;
  private shardTokens = 0;
  private fh: FileHandle | null = null;
  private readonly shards: { file: string; tokens: number }[] = [];
  private buf = new Uint32Array(WRITE_BUFFER_TOKENS);
  private buffered = 0;
  private index: FileHandle | null = null;
  private indexBuf = new Uint32Array(INDEX_FIELDS * 8192);
  private indexed = 0;
  examples = 0;
  tokens = 0;

  constructor(
    private readonly cache: TokenCache,
    readonly key: string,
    private readonly inputs: CacheInputs,
    private readonly tmp: string,
    private readonly maxShardTokens: number,
  ) {}

  /** Tokens in the shard file (writes are positional, so a dropped example can be cut off). */
  private fileTokens = 0;
  /** Tokens of the example being written part by part (`writePartSync`), not yet indexed. */
  private streamed = 0;

  private async flushTokens(): Promise<void> {
    if (this.buffered === 0 || !this.fh) return;
    await this.fh.write(new Uint8Array(this.buf.buffer, 0, this.buffered * 4), 0, this.buffered * 4, this.fileTokens * 4);
    this.fileTokens += this.buffered;
    this.buffered = 0;
  }

  private writeSync(tokens: Uint32Array): void {
    writeSync(this.fh!.fd, new Uint8Array(tokens.buffer, tokens.byteOffset, tokens.length * 4), 0, tokens.length * 4, this.fileTokens * 4);
    this.fileTokens += tokens.length;
  }

  /** Opens the first shard if none is: call before an example that may be written part by part. */
  async prepare(): Promise<void> {
    if (this.shard < 0) await this.nextShard();
  }

  /**
   * Writes a part of the example being encoded straight to the shard, synchronously, so that a
   * very long example is never held whole; `addParts` then indexes it with its last parts. The
   * example stays in the current shard even if it makes the shard longer than its usual size.
   */
  writePartSync(part: Uint32Array): void {
    if (!this.fh) throw new Error('writePartSync before prepare');
    if (this.buffered > 0) {
      this.writeSync(this.buf.subarray(0, this.buffered));
      this.buffered = 0;
    }
    this.writeSync(part);
    this.streamed += part.length;
  }

  /** Cuts off the parts written of an example that failed. */
  dropStreamed(): void {
    if (this.streamed === 0) return;
    this.fileTokens -= this.streamed;
    ftruncateSync(this.fh!.fd, this.fileTokens * 4);
    this.streamed = 0;
  }

  private async flushIndex(): Promise<void> {
    if (this.indexed === 0) return;
    this.index ??= await open(path.join(this.tmp, 'index.bin'), 'w');
    await this.index.write(new Uint8Array(this.indexBuf.buffer, 0, this.indexed * 4));
    this.indexed = 0;
  }

  private async nextShard(): Promise<void> {
    await this.flushTokens();
    await this.fh?.close();
    this.shard++;
    const file = `shard-${String(this.shard).padStart(5, '0')}.bin`;
    this.shards.push({ file, tokens: 0 });
    this.fh = await open(path.join(this.tmp, file), 'w');
    this.fileTokens = 0;
    this.shardTokens = 0;
  }

  /** Appends one example's tokens (copied) with its content hash and source line. */
  async add(tokens: Uint32Array, hashHi: number, hashLo: number, line: number): Promise<void> {
    await this.addParts([tokens], hashHi, hashLo, line);
  }

  /** The same for an example given as consecutive parts (a very long one, never held as one array). */
  async addParts(parts: readonly Uint32Array[], hashHi: number, hashLo: number, line: number): Promise<void> {
    const streamed = this.streamed;
    this.streamed = 0;
    const length = streamed + parts.reduce((n, p) => n + p.length, 0);
    if (length > this.maxShardTokens) throw new Error(`an example of ${length} tokens does not fit a shard`);
    // An example written in part already is in the current shard.
    if (streamed === 0 && (this.shard < 0 || this.shardTokens + length > this.maxShardTokens)) await this.nextShard();
    const offset = this.shardTokens;
    for (const tokens of parts) {
      let src = 0;
      while (src < tokens.length) {
        const n = Math.min(tokens.length - src, this.buf.length - this.buffered);
        this.buf.set(tokens.subarray(src, src + n), this.buffered);
        this.buffered += n;
        src += n;
        if (this.buffered === this.buf.length) await this.flushTokens();
      }
    }
    this.shardTokens += length;
    this.shards[this.shard]!.tokens += length;
    this.indexBuf.set([this.shard, offset, length, hashHi >>> 0, hashLo >>> 0, line >>> 0], this.indexed);
    this.indexed += INDEX_FIELDS;
    if (this.indexed === this.indexBuf.length) await this.flushIndex();
    this.examples++;
    this.tokens += length;
  }

  /** Writes meta.json and renames the folder into place. Another process may have won the race; then its entry stands. */
  async finish(format: ExampleKind | null, tokenizer: CacheTokenizerInfo, stats: CacheStats): Promise<{ dir: string; meta: CacheMeta }> {
    await this.flushTokens();
    await this.fh?.close();
    await this.flushIndex();
    this.index ??= await open(path.join(this.tmp, 'index.bin'), 'w');
    await this.index.close();
    const meta: CacheMeta = { version: CACHE_FORMAT_VERSION, key: this.key, inputs: this.inputs, tokenizer, format, createdAt: new Date().toISOString(), shards: this.shards, stats };
    await writeFile(path.join(this.tmp, 'meta.json'), `${JSON.stringify(meta, null, 1)}\n`);
    const dest = path.join(this.cache.dir, this.key);
    const existing = this.cache.lookup(this.key);
    if (existing.status === 'stale') await this.cache.remove(this.key);
    try {
      await rename(this.tmp, dest);
    } catch {
      await rm(this.tmp, { recursive: true, force: true });
      const now = this.cache.lookup(this.key);
      if (now.status !== 'hit') throw new Error(`the token cache entry ${this.key} could not be published`);
      return { dir: now.dir, meta: now.meta };
    }
    return { dir: dest, meta };
  }

  async abort(): Promise<void> {
    await this.fh?.close().catch(() => undefined);
    await this.index?.close().catch(() => undefined);
    await rm(this.tmp, { recursive: true, force: true });
  }
}

/** Random access to a complete cache entry's examples. Holds the index in memory and reads tokens with pread. */
export class TokenStore {
  readonly index: Uint32Array;
  private readonly fds: number[];

  constructor(
    readonly dir: string,
    readonly meta: CacheMeta,
  ) {
    const bytes = readFileSync(path.join(dir, 'index.bin'));
    this.index = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
    this.fds = meta.shards.map((s) => openSync(path.join(dir, s.file), 'r'));
  }

  get exampleCount(): number {
    return this.meta.stats.examples;
  }

  length(i: number): number {
    return this.index[i * INDEX_FIELDS + 2]!;
  }

  hashHi(i: number): number {
    return this.index[i * INDEX_FIELDS + 3]!;
  }

  hashLo(i: number): number {
    return this.index[i * INDEX_FIELDS + 4]!;
  }

  line(i: number): number {
    return this.index[i * INDEX_FIELDS + 5]!;
  }

  /** Copies tokens [start, start+count) of example i into out[at…]. */
  read(i: number, start: number, count: number, out: Uint32Array, at: number): void {
    if (count <= 0) return;
    const base = i * INDEX_FIELDS;
    const fd = this.fds[this.index[base]!];
    if (fd === undefined) throw new Error(`example ${i} names a missing shard`);
    const offset = this.index[base + 1]! + start;
    const view = new Uint8Array(out.buffer, out.byteOffset + at * 4, count * 4);
    let done = 0;
    while (done < view.length) {
      const n = readSync(fd, view, done, view.length - done, offset * 4 + done);
      if (n === 0) throw new Error(`the token cache entry ${this.dir} is truncated`);
      done += n;
    }
  }

  close(): void {
    for (const fd of this.fds.splice(0)) closeSync(fd);
  }
}
