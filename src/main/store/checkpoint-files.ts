// Checkpoint files: an opaque payload from the trainer (parameters, optimizer moments…) behind a
// small versioned header, written so that a crash or a full disk at any moment leaves either the
// previous state or the complete new file, never a half-written file under the final name:
// temp name in the same folder → write → fsync file → rename → fsync folder. The sha256 of the
// whole file is computed while writing; the store records it only after the rename, and a load
// verifies it, so a damaged or truncated file is never taken for a checkpoint.
//
// Layout (little-endian):
//   0  8 bytes  magic "DYNCKPT\n"
//   8  u32      format version (1)
//   12 u32      header length H (UTF-8 JSON, at most 1 MiB)
//   16 u64      payload length P
//   24 H bytes  header JSON: { runId, step, createdAt, meta }
//   24+H        P bytes payload
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync, constants as fsConstants, fstatSync, fsyncSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, unlinkSync,
  writeSync,
} from 'node:fs';
import { constants as bufferConstants } from 'node:buffer';
import path from 'node:path';
import { CheckpointDamagedError, describeStoreError } from './errors';

export const CHECKPOINT_FORMAT_VERSION = 1;
export const CHECKPOINT_EXTENSION = '.ckpt';
const MAGIC = Buffer.from('DYNCKPT\n', 'latin1');
const PREFIX_BYTES = 24;
export const MAX_HEADER_BYTES = 1 << 20;

export interface CheckpointHeader {
  runId: number;
  step: number;
  createdAt: number;
  /** Small JSON the trainer wants back with the payload (tensor names and offsets, dtypes…). */
  meta: unknown;
}

export interface CheckpointContent {
  header: CheckpointHeader;
  /** Written back to back; a list avoids concatenating large parameter buffers. */
  payload: Uint8Array | readonly Uint8Array[];
}

export interface LoadedCheckpoint {
  formatVersion: number;
  header: CheckpointHeader;
  payload: Buffer;
}

export interface WrittenFile {
  sha256: string;
  bytes: number;
}

function chunksOf(payload: CheckpointContent['payload']): readonly Uint8Array[] {
  return payload instanceof Uint8Array ? [payload] : payload;
}

function writeAll(fd: number, data: Uint8Array): void {
  let offset = 0;
  while (offset < data.byteLength) offset += writeSync(fd, data, offset, data.byteLength - offset);
}

/** Makes the rename itself durable: without this a power cut can forget the new directory entry. */
export function fsyncDirectory(dir: string): void {
  if (process.platform === 'win32') return; // directories cannot be opened for fsync there
  const fd = openSync(dir, fsConstants.O_RDONLY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Temp files start with a dot and end in .tmp, so listings and sweeps tell them apart. */
function tempNameFor(file: string): string {
  const base = path.basename(file);
  return path.join(path.dirname(file), `.${base}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

export function isTempCheckpointName(name: string): boolean {
  return name.startsWith('.') && name.endsWith('.tmp');
}

/**
 * Writes `content` atomically to `file` (replacing any file there) and returns its hash and size.
 * A failure removes the temp file and throws; a full disk throws DiskFullError.
 */
export function writeCheckpointFile(file: string, content: CheckpointContent): WrittenFile {
  const headerJson = Buffer.from(JSON.stringify(content.header), 'utf8');
  if (headerJson.byteLength > MAX_HEADER_BYTES) {
    throw new RangeError(`checkpoint header is ${headerJson.byteLength} bytes; at most ${MAX_HEADER_BYTES} are allowed (put large data in the payload)`);
  }
  const chunks = chunksOf(content.payload);
  const payloadBytes = chunks.reduce((sum, c) => sum + c.byteLength, 0);
  const prefix = Buffer.alloc(PREFIX_BYTES);
  MAGIC.copy(prefix, 0);
  prefix.writeUInt32LE(CHECKPOINT_FORMAT_VERSION, 8);
  prefix.writeUInt32LE(headerJson.byteLength, 12);
  prefix.writeBigUInt64LE(BigInt(payloadBytes), 16);

  const dir = path.dirname(file);
  const temp = tempNameFor(file);
  const hash = createHash('sha256');
  let fd: number | null = null;
  try {
    mkdirSync(dir, { recursive: true });
    fd = openSync(temp, 'wx', 0o644);
    for (const part of [prefix, headerJson, ...chunks]) {
      writeAll(fd, part);
      hash.update(part);
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(temp, file);
    fsyncDirectory(dir);
  } catch (err) {
    if (fd !== null) closeSync(fd);
    rmSync(temp, { force: true });
    throw describeStoreError(err, `write the checkpoint ${path.basename(file)}`, dir);
  }
  return { sha256: hash.digest('hex'), bytes: PREFIX_BYTES + headerJson.byteLength + payloadBytes };
}

function damaged(file: string, why: string): CheckpointDamagedError {
  return new CheckpointDamagedError(`the checkpoint ${file} cannot be used: ${why}`);
}

/** Reads the whole file, checking size and hash against what the store recorded before parsing it. */
export function readCheckpointFile(file: string, expected: WrittenFile): LoadedCheckpoint {
  let data: Buffer;
  try {
    const fd = openSync(file, 'r');
    try {
      const size = fstatSync(fd).size;
      if (size !== expected.bytes) throw damaged(file, `it is ${size} bytes long, but ${expected.bytes} were written (truncated or replaced)`);
      if (size > bufferConstants.MAX_LENGTH) throw damaged(file, `it is ${size} bytes long, more than this platform can load at once`);
      data = Buffer.allocUnsafe(size);
      let offset = 0;
      while (offset < size) {
        const n = readSync(fd, data, offset, size - offset, offset);
        if (n === 0) throw damaged(file, `it ended after ${offset} of ${size} bytes`);
        offset += n;
      }
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    if (err instanceof CheckpointDamagedError) throw err;
    if ((err as { code?: string }).code === 'ENOENT') throw damaged(file, 'the file is missing');
    throw describeStoreError(err, `read the checkpoint ${path.basename(file)}`, path.dirname(file));
  }
  const sha256 = createHash('sha256').update(data).digest('hex');
  if (sha256 !== expected.sha256) throw damaged(file, 'its contents do not match the hash recorded when it was saved');
  return parseCheckpoint(file, data);
}

/** Parses a file's bytes (already hash-checked); every length is bounded before use. */
export function parseCheckpoint(file: string, data: Buffer): LoadedCheckpoint {
  if (data.byteLength < PREFIX_BYTES || !data.subarray(0, MAGIC.byteLength).equals(MAGIC)) {
    throw damaged(file, 'it is not a DynaMiCS checkpoint (wrong magic bytes)');
  }
  const formatVersion = data.readUInt32LE(8);
  if (formatVersion > CHECKPOINT_FORMAT_VERSION) {
    throw damaged(file, `it uses checkpoint format ${formatVersion}, newer than this version of the app reads (${CHECKPOINT_FORMAT_VERSION}); update the app`);
  }
  if (formatVersion < 1) throw damaged(file, `unknown checkpoint format ${formatVersion}`);
  const headerBytes = data.readUInt32LE(12);
  if (headerBytes > MAX_HEADER_BYTES) throw damaged(file, `its header claims ${headerBytes} bytes (at most ${MAX_HEADER_BYTES})`);
  const payloadBytes = data.readBigUInt64LE(16);
  const expectedSize = BigInt(PREFIX_BYTES + headerBytes) + payloadBytes;
  if (expectedSize !== BigInt(data.byteLength)) {
    throw damaged(file, `its lengths add up to ${expectedSize} bytes but the file has ${data.byteLength}`);
  }
  let header: CheckpointHeader;
  try {
    header = JSON.parse(data.toString('utf8', PREFIX_BYTES, PREFIX_BYTES + headerBytes)) as CheckpointHeader;
  } catch (err) {
    throw damaged(file, `its header is not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof header !== 'object' || header === null || !Number.isSafeInteger(header.runId) || !Number.isSafeInteger(header.step)) {
    throw damaged(file, 'its header lacks runId and step');
  }
  return { formatVersion, header, payload: data.subarray(PREFIX_BYTES + headerBytes) };
}

/**
 * Removes what a crash can leave in a checkpoint folder: temp files, and checkpoint files the store
 * does not list as complete (`keep`: file names to keep). Returns the names removed. Call it only
 * while no trainer writes to this folder (before a resume), or it would take an in-flight temp file.
 */
export function removeStrayCheckpointFiles(dir: string, keep: ReadonlySet<string>): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return [];
    throw err;
  }
  const removed: string[] = [];
  for (const name of names) {
    const stray = isTempCheckpointName(name) || (name.endsWith(CHECKPOINT_EXTENSION) && !keep.has(name));
    if (!stray) continue;
    try {
      unlinkSync(path.join(dir, name));
      removed.push(name);
    } catch (err) {
      if ((err as { code?: string }).code !== 'ENOENT') throw err;
    }
  }
  return removed;
}
