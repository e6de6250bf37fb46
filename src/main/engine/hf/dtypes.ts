// Element types of safetensors files and the float conversions the loader and the exporters need:
// bfloat16 and float16 to float32 (exact) and back (round to nearest even, as PyTorch's `.to()`
// does), done in place over caller-given chunks so a tensor is never held twice at full size.

/** Every dtype the safetensors format names, with its size in bytes. */
export const SAFETENSORS_DTYPES = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1,
  I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4,
  I64: 8, U64: 8, F64: 8,
} as const;

export type SafetensorsDType = keyof typeof SAFETENSORS_DTYPES;

/** The float dtypes a checkpoint's weights may use (converted to float32 on load). */
export const FLOAT_WEIGHT_DTYPES = ['F32', 'BF16', 'F16', 'F64'] as const;
export type FloatWeightDType = (typeof FLOAT_WEIGHT_DTYPES)[number];

export function isSafetensorsDType(s: string): s is SafetensorsDType {
  return Object.prototype.hasOwnProperty.call(SAFETENSORS_DTYPES, s);
}

export function isFloatWeightDType(s: string): s is FloatWeightDType {
  return (FLOAT_WEIGHT_DTYPES as readonly string[]).includes(s);
}

/** Hugging Face's `torch_dtype` spelling of a float dtype. */
export function torchDtypeName(d: FloatWeightDType): string {
  return { F32: 'float32', BF16: 'bfloat16', F16: 'float16', F64: 'float64' }[d];
}

/** Parses `float32 | bfloat16 | float16` (and the safetensors spellings). */
export function parseFloatDType(s: string): FloatWeightDType | undefined {
  const m: Record<string, FloatWeightDType> = {
    float32: 'F32', f32: 'F32', F32: 'F32', fp32: 'F32',
    bfloat16: 'BF16', bf16: 'BF16', BF16: 'BF16',
    float16: 'F16', f16: 'F16', F16: 'F16', fp16: 'F16', half: 'F16',
  };
  return m[s];
}

// ---- to float32 ---------------------------------------------------------------------------------

/** bfloat16 bits -> float32: the bits are the float32's upper half, so this is exact. */
export function bf16ToF32(src: Uint16Array, dst: Float32Array): void {
  const out = new Uint32Array(dst.buffer, dst.byteOffset, dst.length);
  for (let i = 0; i < src.length; i++) out[i] = src[i]! << 16;
}

let halfTable: Float32Array | undefined;

/** All 65536 float16 values as float32 (256 KiB, built once on first use: a pure constant). */
function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) t[h] = sign * frac * 2 ** -24;
    else if (exp === 31) t[h] = frac === 0 ? sign * Infinity : NaN;
    else t[h] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return (halfTable = t);
}

export function f16ToF32(src: Uint16Array, dst: Float32Array): void {
  const t = halfToFloatTable();
  for (let i = 0; i < src.length; i++) dst[i] = t[src[i]!]!;
}

// ---- from float32 -------------------------------------------------------------------------------

/** float32 -> bfloat16 bits, rounding to nearest even; NaN stays a quiet NaN. */
export function f32ToBf16(src: Float32Array, dst: Uint16Array): void {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < src.length; i++) {
    const x = bits[i]!;
    if ((x & 0x7f800000) === 0x7f800000 && (x & 0x007fffff) !== 0) {
      dst[i] = ((x >>> 16) | 0x0040) & 0xffff;
      continue;
    }
    dst[i] = ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
  }
}

/** float32 -> float16 bits, rounding to nearest even, with subnormals, overflow to infinity. */
export function f32ToF16(src: Float32Array, dst: Uint16Array): void {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < src.length; i++) dst[i] = f32BitsToF16(bits[i]!);
}

function f32BitsToF16(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal: rounds to zero
    mant |= 0x800000; // implicit leading one
    const shift = 14 - e; // 24-bit significand down to the subnormal's 10 bits
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let h = mant >>> shift;
    if (rest > half || (rest === half && (h & 1) === 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h++; // may carry into the exponent: still right
  return sign | h;
}

/** float32 values to the bytes of `dtype` (a new buffer). */
export function encodeFloat32(src: Float32Array, dtype: FloatWeightDType): Uint8Array {
  switch (dtype) {
    case 'F32':
      return new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
    case 'F64': {
      const out = Float64Array.from(src);
      return new Uint8Array(out.buffer);
    }
    case 'BF16':
    case 'F16': {
      const out = new Uint16Array(src.length);
      if (dtype === 'BF16') f32ToBf16(src, out);
      else f32ToF16(src, out);
      return new Uint8Array(out.buffer);
    }
  }
}
