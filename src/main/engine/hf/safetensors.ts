// A safe reader of safetensors files (https://huggingface.co/docs/safetensors): the header's length
// is capped and must fit in the file, the header must be a JSON object whose every entry has a
// known dtype, a shape and offsets, dtype × shape must equal the byte length, and the tensors must
// tile the data buffer exactly (inside the file, no overlaps, no gaps, as the format requires).
// Every refusal is one sentence naming the file and the tensor. Data is read per tensor on demand;
// float tensors are converted to float32 in chunks, straight into the result, so a tensor is never
// held twice at full size and the file is never held in memory.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { InvalidInputError, UserError } from '../../../shared/errors';
import {
  bf16ToF32, f16ToF32, FLOAT_WEIGHT_DTYPES, isFloatWeightDType, isSafetensorsDType, SAFETENSORS_DTYPES, type SafetensorsDType,
} from './dtypes';
import { locateJsonError } from './json';

/** The format's own limit on the header (the reference implementation refuses larger ones). */
export const MAX_HEADER_BYTES = 100_000_000;
const MAX_TENSORS = 1_000_000;
const MAX_NAME_LENGTH = 1024;
const MAX_RANK = 16;
/** Conversion chunk: 4 Mi elements (8 MiB of bfloat16). */
const CHUNK_ELEMENTS = 1 << 22;

export interface TensorInfo {
  name: string;
  dtype: SafetensorsDType;
  shape: readonly number[];
  /** Absolute byte offsets in the file. */
  begin: number;
  end: number;
}

export interface SafetensorsLimits {
  maxHeaderBytes?: number;
}

function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export class SafetensorsFile {
  private fd: number | undefined;

  private constructor(
    readonly file: string,
    /** File size when the header was checked; a later read refuses a file that changed. */
    readonly size: number,
    readonly headerBytes: number,
    readonly tensors: ReadonlyMap<string, TensorInfo>,
    readonly metadata: Readonly<Record<string, string>> | null,
    fd: number,
  ) {
    this.fd = fd;
  }

  /** Opens and validates `file`; the descriptor stays open until `close()`. */
  static open(file: string, limits: SafetensorsLimits = {}): SafetensorsFile {
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new UserError(code === 'ENOENT' ? `${file} does not exist` : `cannot open ${file} (${code ?? 'unknown error'})`);
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) throw new InvalidInputError(`${file} is not a regular file`);
      const parsed = parseHeader(file, fd, st.size, limits.maxHeaderBytes ?? MAX_HEADER_BYTES);
      return new SafetensorsFile(file, st.size, parsed.headerBytes, parsed.tensors, parsed.metadata, fd);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  get names(): string[] {
    return [...this.tensors.keys()];
  }

  info(name: string): TensorInfo {
    const t = this.tensors.get(name);
    if (!t) throw new InvalidInputError(`${this.file} has no tensor named ${name}`);
    return t;
  }

  private descriptor(): number {
    if (this.fd === undefined) {
      const fd = openSync(this.file, 'r');
      if (fstatSync(fd).size !== this.size) {
        closeSync(fd);
        throw new UserError(`${this.file} changed size since it was checked; load the model again`);
      }
      this.fd = fd;
    }
    return this.fd;
  }

  private readInto(target: Uint8Array, position: number): void {
    const fd = this.descriptor();
    let done = 0;
    while (done < target.length) {
      const n = readSync(fd, target, done, Math.min(target.length - done, 1 << 30), position + done);
      if (n === 0) throw new UserError(`${this.file} ended early while reading at byte ${position + done} (was it truncated after it was checked?)`);
      done += n;
    }
  }

  /** The raw little-endian bytes of a tensor, in a buffer of their own (aligned for any view). */
  readBytes(name: string): Uint8Array {
    const t = this.info(name);
    const out = new Uint8Array(new ArrayBuffer(t.end - t.begin));
    this.readInto(out, t.begin);
    return out;
  }

  /** A BF16 or F16 tensor's bits as stored, unconverted. */
  readHalf(name: string): Uint16Array {
    const t = this.info(name);
    if (t.dtype !== 'BF16' && t.dtype !== 'F16') throw new InvalidInputError(`${this.file}: tensor ${name} has dtype ${t.dtype}, not BF16 or F16`);
    const out = new Uint16Array(numelOf(t.shape));
    this.readInto(new Uint8Array(out.buffer), t.begin);
    return out;
  }

  /**
   * A float tensor as float32, converted chunk by chunk into `into` (or a new array): peak memory
   * is the result plus one chunk.
   */
  readFloat32(name: string, into?: Float32Array): Float32Array {
    const t = this.info(name);
    if (!isFloatWeightDType(t.dtype)) {
      throw new InvalidInputError(`${this.file}: tensor ${name} has dtype ${t.dtype}; weights must be one of ${FLOAT_WEIGHT_DTYPES.join(', ')}`);
    }
    const n = numelOf(t.shape);
    const out = into ?? new Float32Array(n);
    if (out.length !== n) throw new Error(`readFloat32(${name}): target holds ${out.length} values, the tensor ${n}`);
    if (t.dtype === 'F32') {
      this.readInto(new Uint8Array(out.buffer, out.byteOffset, out.byteLength), t.begin);
      return out;
    }
    const size = SAFETENSORS_DTYPES[t.dtype];
    const chunk = new Uint8Array(new ArrayBuffer(Math.min(n, CHUNK_ELEMENTS) * size));
    for (let start = 0; start < n; start += CHUNK_ELEMENTS) {
      const count = Math.min(CHUNK_ELEMENTS, n - start);
      const bytes = chunk.subarray(0, count * size);
      this.readInto(bytes, t.begin + start * size);
      const dst = out.subarray(start, start + count);
      if (t.dtype === 'BF16') bf16ToF32(new Uint16Array(bytes.buffer, 0, count), dst);
      else if (t.dtype === 'F16') f16ToF32(new Uint16Array(bytes.buffer, 0, count), dst);
      else dst.set(new Float64Array(bytes.buffer, 0, count));
    }
    return out;
  }

  close(): void {
    if (this.fd !== undefined) {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }
}

interface ParsedHeader {
  headerBytes: number;
  tensors: Map<string, TensorInfo>;
  metadata: Record<string, string> | null;
}

function parseHeader(file: string, fd: number, fileSize: number, maxHeader: number): ParsedHeader {
  const bad = (why: string) => new InvalidInputError(`${file} is not a valid safetensors file: ${why}`);
  if (fileSize < 8) throw bad(`it has ${fileSize} bytes, fewer than the 8-byte header length`);
  const lenBuf = Buffer.alloc(8);
  readSync(fd, lenBuf, 0, 8, 0);
  const len = lenBuf.readBigUInt64LE(0);
  if (len > BigInt(maxHeader)) throw bad(`the header length (${len} bytes) is larger than the limit of ${maxHeader} bytes`);
  const headerLen = Number(len);
  if (8 + headerLen > fileSize) throw bad(`the header length (${headerLen} bytes) runs past the end of the file (${fileSize} bytes)`);
  if (headerLen < 2) throw bad(`the header length is ${headerLen} bytes, too short for a JSON object`);
  const raw = Buffer.alloc(headerLen);
  let got = 0;
  while (got < headerLen) {
    const n = readSync(fd, raw, got, headerLen - got, 8 + got);
    if (n === 0) throw bad('the file ended inside the header');
    got += n;
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw bad('the header is not UTF-8 text');
  }
  if (!text.startsWith('{')) throw bad('the header does not start with "{"');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    const { pos, reason } = locateJsonError(text);
    throw bad(`the header is not valid JSON (${reason} at header byte ${pos})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad('the header is not a JSON object');

  const dataStart = 8 + headerLen;
  const dataSize = fileSize - dataStart;
  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> | null = null;
  const entries = Object.entries(json as Record<string, unknown>);
  if (entries.length > MAX_TENSORS + 1) throw bad(`the header lists ${entries.length} entries, more than the limit of ${MAX_TENSORS}`);
  const spans: { name: string; s: number; e: number }[] = [];
  for (const [name, v] of entries) {
    if (name === '__metadata__') {
      if (typeof v !== 'object' || v === null || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) {
        throw bad('"__metadata__" must map strings to strings');
      }
      metadata = v as Record<string, string>;
      continue;
    }
    if (name.length === 0 || name.length > MAX_NAME_LENGTH) throw bad(`a tensor name is ${name.length} characters long (1 to ${MAX_NAME_LENGTH} allowed)`);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(`the entry of tensor ${name} is not an object`);
    const e = v as Record<string, unknown>;
    const extra = Object.keys(e).filter((k) => k !== 'dtype' && k !== 'shape' && k !== 'data_offsets');
    if (extra.length > 0) throw bad(`tensor ${name} has unknown field ${JSON.stringify(extra[0])}`);
    if (typeof e.dtype !== 'string' || !isSafetensorsDType(e.dtype)) throw bad(`tensor ${name} has unknown dtype ${JSON.stringify(e.dtype)}`);
    const shape = e.shape;
    if (!Array.isArray(shape) || shape.length > MAX_RANK || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
      throw bad(`tensor ${name} has an invalid shape ${JSON.stringify(shape)} (a list of at most ${MAX_RANK} non-negative integers)`);
    }
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((d) => Number.isSafeInteger(d) && (d as number) >= 0) || (offs[0] as number) > (offs[1] as number)) {
      throw bad(`tensor ${name} has invalid data_offsets ${JSON.stringify(offs)} (two non-negative integers, begin <= end)`);
    }
    const [s, end] = offs as [number, number];
    const numel = numelOf(shape as number[]);
    const expected = numel * SAFETENSORS_DTYPES[e.dtype];
    if (!Number.isSafeInteger(expected) || expected !== end - s) {
      throw bad(`tensor ${name}: dtype ${e.dtype} × shape [${(shape as number[]).join(', ')}] is ${expected} bytes but its data_offsets span ${end - s} bytes`);
    }
    if (end > dataSize) {
      throw bad(`tensor ${name} ends at data byte ${end} but the file holds only ${dataSize} bytes of data (is it truncated?)`);
    }
    tensors.set(name, { name, dtype: e.dtype, shape: [...(shape as number[])], begin: dataStart + s, end: dataStart + end });
    spans.push({ name, s, e: end });
  }
  // The data buffer must be tiled exactly: sorted by start, each tensor begins where the last ended.
  spans.sort((a, b) => a.s - b.s || a.e - b.e);
  let at = 0;
  let last = '';
  for (const sp of spans) {
    if (sp.s < at) throw bad(`tensor ${sp.name} (data bytes ${sp.s}..${sp.e}) overlaps tensor ${last}, which ends at byte ${at}`);
    if (sp.s > at) throw bad(`the data has a gap of ${sp.s - at} bytes before tensor ${sp.name} (the format allows none)`);
    at = sp.e;
    last = sp.name;
  }
  if (at !== dataSize) throw bad(`its tensors cover ${at} bytes of data but the file holds ${dataSize} (trailing bytes)`);
  return { headerBytes: headerLen, tensors, metadata };
}
