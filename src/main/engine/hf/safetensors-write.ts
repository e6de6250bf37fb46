// Writes safetensors files the way the reference implementation lays them out (an 8-byte header
// length, a JSON header padded with spaces to 8 bytes, tensors back to back), one tensor at a time:
// the header is computed from names, dtypes and shapes first, then each tensor's bytes are asked
// for, written and dropped. Files go to a temporary name, are fsynced and renamed. Large sets are
// split into shards with a `model.safetensors.index.json`, as `save_pretrained` does.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { SAFETENSORS_DTYPES, type SafetensorsDType } from './dtypes';
import { writeTextAtomic } from './files';

export interface TensorToWrite {
  name: string;
  dtype: SafetensorsDType;
  shape: readonly number[];
  /** The tensor's little-endian bytes; called once, when the tensor is written. */
  bytes(): Uint8Array;
}

function byteLength(t: Pick<TensorToWrite, 'dtype' | 'shape'>): number {
  return t.shape.reduce((a, d) => a * d, 1) * SAFETENSORS_DTYPES[t.dtype];
}

/** The header bytes (length prefix included) for tensors written in the given order. */
export function safetensorsHeader(tensors: readonly Pick<TensorToWrite, 'name' | 'dtype' | 'shape'>[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    if (t.name === '__metadata__' || Object.prototype.hasOwnProperty.call(header, t.name)) throw new Error(`tensor name ${t.name} is used twice or reserved`);
    const n = byteLength(t);
    header[t.name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + n] };
    offset += n;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (8 - (json.length % 8)) % 8;
  if (pad > 0) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const out = Buffer.alloc(8 + json.length);
  out.writeBigUInt64LE(BigInt(json.length), 0);
  json.copy(out, 8);
  return out;
}

function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, Math.min(bytes.length - done, 1 << 26), position + done);
}

/** Writes one safetensors file (temporary name, fsync, rename). Returns the bytes written. */
export function writeSafetensors(file: string, tensors: readonly TensorToWrite[], metadata?: Record<string, string>): number {
  const head = safetensorsHeader(tensors, metadata);
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  let position = 0;
  try {
    writeAll(fd, head, 0);
    position = head.length;
    for (const t of tensors) {
      const bytes = t.bytes();
      const want = byteLength(t);
      if (bytes.length !== want) throw new Error(`tensor ${t.name}: got ${bytes.length} bytes, dtype × shape needs ${want}`);
      writeAll(fd, bytes, position);
      position += bytes.length;
    }
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, file);
  return position;
}

export const INDEX_SUFFIX = '.safetensors.index.json';

export interface ShardedWriteResult {
  /** File names written, relative to the folder. */
  files: string[];
  totalBytes: number;
}

/**
 * Writes `<base>.safetensors`, or, when the tensors exceed `maxShardBytes`, shards
 * `<base>-00001-of-0000N.safetensors` and `<base>.safetensors.index.json` (weight_map and
 * total_size, as transformers writes them). Tensors are kept whole and in order.
 */
export function writeShardedSafetensors(
  dir: string,
  base: string,
  tensors: readonly TensorToWrite[],
  opts: { maxShardBytes?: number; metadata?: Record<string, string> } = {},
): ShardedWriteResult {
  const max = opts.maxShardBytes ?? 5 * 1000 ** 3;
  const shards: TensorToWrite[][] = [[]];
  let size = 0;
  let total = 0;
  for (const t of tensors) {
    const n = byteLength(t);
    if (size > 0 && size + n > max) {
      shards.push([]);
      size = 0;
    }
    shards.at(-1)!.push(t);
    size += n;
    total += n;
  }
  if (shards.length === 1) {
    const name = `${base}.safetensors`;
    writeSafetensors(path.join(dir, name), tensors, opts.metadata);
    return { files: [name], totalBytes: total };
  }
  const width = 5;
  const count = String(shards.length).padStart(width, '0');
  const files: string[] = [];
  const weightMap: Record<string, string> = {};
  shards.forEach((shard, i) => {
    const name = `${base}-${String(i + 1).padStart(width, '0')}-of-${count}.safetensors`;
    writeSafetensors(path.join(dir, name), shard, opts.metadata);
    for (const t of shard) weightMap[t.name] = name;
    files.push(name);
  });
  const indexName = `${base}${INDEX_SUFFIX}`;
  writeTextAtomic(path.join(dir, indexName), `${JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2)}\n`);
  return { files: [...files, indexName], totalBytes: total };
}
