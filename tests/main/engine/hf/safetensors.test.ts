// The safetensors reader and writer: round trips in every float dtype, exact bfloat16/float16
// conversions, sharded writing, and hostile files (truncated, header length past the end or over
// the cap, overlapping offsets, gaps, dtype × shape mismatches, malformed headers): each refused
// with one sentence naming the file and the tensor, none crashing.
import { closeSync, mkdirSync, openSync, readFileSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidInputError, UserError } from '../../../../src/shared/errors';
import { bf16ToF32, encodeFloat32, f16ToF32, f32ToBf16, f32ToF16 } from '../../../../src/main/engine/hf/dtypes';
import { SafetensorsFile } from '../../../../src/main/engine/hf/safetensors';
import { writeSafetensors, writeShardedSafetensors } from '../../../../src/main/engine/hf/safetensors-write';
import { tempDir } from '../../../helpers/temp';

const dir = tempDir('safetensors-');
let n = 0;
const file = (name = 'x') => path.join(dir, `${name}-${n++}.safetensors`);

/** Writes a file from a raw header object and data bytes (for hostile cases). */
function rawFile(header: unknown, data: Uint8Array, opts: { headerLen?: bigint; headerText?: string } = {}): string {
  const f = file('raw');
  const text = Buffer.from(opts.headerText ?? JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(opts.headerLen ?? BigInt(text.length));
  writeFileSync(f, Buffer.concat([len, text, data]));
  return f;
}

const f32 = (...v: number[]) => Float32Array.from(v);

describe('float conversions', () => {
  it('bfloat16 round trip is exact on representable values and rounds to nearest even', () => {
    const src = f32(1, -2.5, 0.15625, 3.140625, Infinity, -Infinity, 0, -0);
    const bits = new Uint16Array(src.length);
    f32ToBf16(src, bits);
    const back = new Float32Array(src.length);
    bf16ToF32(bits, back);
    expect(Array.from(back)).toEqual(Array.from(src));
    // 1 + 2^-8 is halfway between two bfloat16 values: ties to even (1.0); just above rounds up
    const tie = new Uint16Array(2);
    f32ToBf16(f32(1 + 2 ** -8, 1 + 2 ** -8 + 2 ** -20), tie);
    expect(Array.from(tie)).toEqual([0x3f80, 0x3f81]);
    const nan = new Uint16Array(1);
    f32ToBf16(f32(NaN), nan);
    bf16ToF32(nan, back.subarray(0, 1));
    expect(back[0]).toBeNaN();
  });

  it('float16: normals, subnormals, overflow, ties', () => {
    const src = f32(1, -2, 65504, 65520, 2 ** -24, 2 ** -25, 3 * 2 ** -26, 1 / 3, 1 + 2 ** -11, 1e-10);
    const h = new Uint16Array(src.length);
    f32ToF16(src, h);
    expect(Array.from(h, (x) => x.toString(16))).toEqual([
      '3c00', 'c000', '7bff', '7c00', // 65520 rounds to infinity
      '1', '0', '1', // 2^-25 ties to even (0); 3·2^-26 = 0.75·2^-24 rounds to 2^-24 (as numpy does)
      '3555', '3c00', '0', // 1/3; 1 + 2^-11 ties to even; tiny -> 0
    ]);
    const back = new Float32Array(src.length);
    f16ToF32(h, back);
    expect(back[0]).toBe(1);
    expect(back[2]).toBe(65504);
    expect(back[3]).toBe(Infinity);
    expect(back[4]).toBe(2 ** -24);
    expect(Math.abs(back[7]! - 1 / 3)).toBeLessThan(2 ** -12);
  });
});

describe('reader and writer', () => {
  it('round-trips F32, BF16, F16, F64 and integer tensors, converting floats to float32', () => {
    const f = file();
    const values = f32(0.5, -1.25, 3, 1 / 3, 1e-3, 7);
    writeSafetensors(f, [
      { name: 'a', dtype: 'F32', shape: [2, 3], bytes: () => encodeFloat32(values, 'F32') },
      { name: 'b', dtype: 'BF16', shape: [6], bytes: () => encodeFloat32(values, 'BF16') },
      { name: 'c', dtype: 'F16', shape: [3, 2], bytes: () => encodeFloat32(values, 'F16') },
      { name: 'd', dtype: 'F64', shape: [6], bytes: () => encodeFloat32(values, 'F64') },
      { name: 'ids', dtype: 'I32', shape: [2], bytes: () => new Uint8Array(Int32Array.of(7, -100).buffer) },
      { name: 'empty', dtype: 'F32', shape: [0, 4], bytes: () => new Uint8Array(0) },
    ], { format: 'pt' });
    const st = SafetensorsFile.open(f);
    try {
      expect(st.metadata).toEqual({ format: 'pt' });
      expect(st.names.sort()).toEqual(['a', 'b', 'c', 'd', 'empty', 'ids']);
      expect(Array.from(st.readFloat32('a'))).toEqual(Array.from(values));
      expect(Array.from(st.readFloat32('d'))).toEqual(Array.from(values));
      const b = st.readFloat32('b');
      const c = st.readFloat32('c');
      for (let i = 0; i < values.length; i++) {
        expect(Math.abs(b[i]! - values[i]!)).toBeLessThanOrEqual(Math.abs(values[i]!) * 2 ** -8);
        expect(Math.abs(c[i]! - values[i]!)).toBeLessThanOrEqual(Math.abs(values[i]!) * 2 ** -11);
      }
      expect(Array.from(new Int32Array(st.readBytes('ids').buffer))).toEqual([7, -100]);
      expect(st.readFloat32('empty').length).toBe(0);
      expect(() => st.readFloat32('ids')).toThrow(/tensor ids has dtype I32; weights must be one of F32, BF16, F16, F64/);
      expect(() => st.readFloat32('nope')).toThrow(/has no tensor named nope/);
      // the header is padded to 8 bytes, so the data starts aligned
      expect(st.headerBytes % 8).toBe(0);
    } finally {
      st.close();
    }
  });

  it('converts a bfloat16 tensor larger than one chunk without a second full copy', () => {
    const count = (1 << 22) + 1000; // one chunk of 4 Mi elements plus a remainder
    const values = new Float32Array(count);
    for (let i = 0; i < count; i++) values[i] = (i % 256) - 128; // exact in bfloat16
    const f = file('big');
    writeSafetensors(f, [{ name: 'w', dtype: 'BF16', shape: [count], bytes: () => encodeFloat32(values, 'BF16') }]);
    const st = SafetensorsFile.open(f);
    const out = st.readFloat32('w');
    st.close();
    expect(out.length).toBe(count);
    expect(out[count - 1]).toBe(values[count - 1]);
    expect(out[(1 << 22) + 3]).toBe(values[(1 << 22) + 3]);
  });

  it('writes shards and an index when the tensors exceed the shard size', () => {
    const out = path.join(dir, 'sharded');
    const t = (name: string) => ({ name, dtype: 'F32' as const, shape: [4], bytes: () => encodeFloat32(f32(1, 2, 3, 4), 'F32') });
    const res = writeShardedSafetensors((mkdirSync(out), out), 'model', [t('a'), t('b'), t('c')], { maxShardBytes: 32 });
    expect(res.files).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json']);
    const index = JSON.parse(readFileSync(path.join(out, 'model.safetensors.index.json'), 'utf8'));
    expect(index).toEqual({ metadata: { total_size: 48 }, weight_map: { a: res.files[0], b: res.files[0], c: res.files[1] } });
  });
});

describe('hostile files: each refused in one sentence', () => {
  const ok = { w: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] } };
  const data16 = new Uint8Array(16);

  const refuses = (f: string, pattern: RegExp) => {
    let err: unknown;
    try {
      SafetensorsFile.open(f).close();
    } catch (e) {
      err = e;
    }
    expect(err, `expected a refusal matching ${pattern}`).toBeInstanceOf(UserError);
    const msg = (err as Error).message;
    expect(msg).toMatch(pattern);
    expect(msg).toContain(path.basename(f));
    expect(msg.split('\n')).toHaveLength(1);
  };

  it('accepts the well-formed control case', () => {
    const st = SafetensorsFile.open(rawFile(ok, data16));
    expect(st.info('w').shape).toEqual([2, 2]);
    st.close();
  });

  it('a file shorter than the length prefix', () => {
    const f = file('short');
    writeFileSync(f, Buffer.from([1, 2, 3]));
    refuses(f, /3 bytes, fewer than the 8-byte header length/);
  });

  it('a header length larger than the file', () => {
    refuses(rawFile(ok, data16, { headerLen: 10_000n }), /header length \(10000 bytes\) runs past the end of the file/);
  });

  it('a header length over the cap', () => {
    refuses(rawFile(ok, data16, { headerLen: 1n << 40n }), /header length \(1099511627776 bytes\) is larger than the limit of 100000000 bytes/);
  });

  it('a truncated file', () => {
    const f = rawFile(ok, data16);
    truncateSync(f, readFileSync(f).length - 5);
    refuses(f, /tensor w ends at data byte 16 but the file holds only 11 bytes of data \(is it truncated\?\)/);
  });

  it('overlapping offsets', () => {
    const h = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [3], data_offsets: [4, 16] } };
    refuses(rawFile(h, data16), /tensor b \(data bytes 4\.\.16\) overlaps tensor a, which ends at byte 8/);
  });

  it('a gap and trailing bytes', () => {
    refuses(rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, data16), /gap of 8 bytes before tensor a/);
    refuses(rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, data16), /cover 8 bytes of data but the file holds 16 \(trailing bytes\)/);
  });

  it('dtype × shape disagreeing with the offsets', () => {
    refuses(rawFile({ w: { dtype: 'BF16', shape: [2, 2], data_offsets: [0, 16] } }, data16), /tensor w: dtype BF16 × shape \[2, 2\] is 8 bytes but its data_offsets span 16 bytes/);
  });

  it('malformed headers', () => {
    refuses(rawFile(null, data16, { headerText: '{"w": {"dtype": "F32",' }), /header is not valid JSON/);
    refuses(rawFile(null, data16, { headerText: '[1, 2]' }), /header does not start with "\{"/);
    refuses(rawFile({ w: { dtype: 'F128', shape: [2], data_offsets: [0, 16] } }, data16), /tensor w has unknown dtype "F128"/);
    refuses(rawFile({ w: { dtype: 'F32', shape: [-4], data_offsets: [0, 16] } }, data16), /tensor w has an invalid shape \[-4\]/);
    refuses(rawFile({ w: { dtype: 'F32', shape: [4], data_offsets: [16, 0] } }, data16), /tensor w has invalid data_offsets \[16,0\]/);
    refuses(rawFile({ w: { ...ok.w, extra: 1 } }, data16), /tensor w has unknown field "extra"/);
    refuses(rawFile({ __metadata__: { a: 1 }, ...ok }, data16), /"__metadata__" must map strings to strings/);
    const bad = rawFile(ok, data16);
    const fd = openSync(bad, 'r+');
    writeSync(fd, Buffer.from([0xff, 0xfe]), 0, 2, 9); // invalid UTF-8 inside the header
    closeSync(fd);
    refuses(bad, /header is not UTF-8 text/);
  });

  it('a missing file is a user error, not a crash', () => {
    expect(() => SafetensorsFile.open(path.join(dir, 'absent.safetensors'))).toThrow(UserError);
    expect(() => SafetensorsFile.open(dir)).toThrow(InvalidInputError);
  });
});
