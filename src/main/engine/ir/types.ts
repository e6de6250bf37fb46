// Element types, static shapes and broadcasting: the vocabulary every other part of the graph IR
// uses. Shapes are plain arrays of positive integers; there are no symbolic dimensions, because
// every graph is built for one batch shape (a new shape is a new graph, cached on disk).

export type DType = 'float32' | 'float64' | 'int64' | 'int32' | 'bool' | HalfDType;
export type FloatDType = 'float32' | 'float64';
/**
 * Half-precision storage types of frozen base weights: they are read and cast to the graph's
 * float type where used, never computed in (no gradient flows through them).
 */
export type HalfDType = 'bfloat16' | 'float16';
export type Shape = readonly number[];

export type FloatArray = Float32Array | Float64Array;
export type TensorArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | Uint16Array;

export function isFloat(dtype: DType): dtype is FloatDType {
  return dtype === 'float32' || dtype === 'float64';
}

export function isHalf(dtype: DType): dtype is HalfDType {
  return dtype === 'bfloat16' || dtype === 'float16';
}

/** Bytes per element. */
export function dtypeBytes(dtype: DType): number {
  switch (dtype) {
    case 'float64':
    case 'int64':
      return 8;
    case 'float32':
    case 'int32':
      return 4;
    case 'bfloat16':
    case 'float16':
      return 2;
    case 'bool':
      return 1;
  }
}

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** Numpy-style broadcast of two shapes, or undefined when they are incompatible. */
export function broadcastShapes(a: Shape, b: Shape): number[] | undefined {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return undefined;
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** Normalizes a possibly negative axis against a rank. */
export function normAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new RangeError(`axis ${axis} is out of range for rank ${rank}`);
  return a;
}

export function typedArrayFor(dtype: DType, length: number): TensorArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(length);
    case 'float64':
      return new Float64Array(length);
    case 'int64':
      return new BigInt64Array(length);
    case 'int32':
      return new Int32Array(length);
    case 'bool':
      return new Uint8Array(length);
    case 'bfloat16':
    case 'float16':
      return new Uint16Array(length);
  }
}
