// Test helpers for the model-loading tests: the committed fixture folders (written by
// scripts/reference/dump_model_fixtures.py), their float64 reference values, and comparisons with
// explicit tolerances.
import { cpSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { SafetensorsFile } from '../../../../src/main/engine/hf/safetensors';

export const MODEL_FIXTURES = path.join(import.meta.dirname, '..', '..', '..', 'fixtures', 'models');

export const VARIANTS = [
  'llama-f32', 'llama-bf16', 'mistral-f32', 'mistral-bf16', 'qwen2-f32', 'qwen2-bf16', 'qwen3-f32', 'qwen3-bf16', 'gpt2-f32', 'gpt2-bf16',
] as const;
export type Variant = (typeof VARIANTS)[number];

export function fixtureDir(v: Variant): string {
  return path.join(MODEL_FIXTURES, v);
}

/** A writable copy of a fixture folder under `root` (hostile-file tests edit it). */
export function copyFixture(v: Variant, root: string, name: string = v): string {
  const dir = path.join(root, name);
  cpSync(fixtureDir(v), dir, { recursive: true });
  return dir;
}

export interface Reference {
  meta: { architecture: string; weights_dtype: string; batch: [number, number]; lora: { r: number; alpha: number; targets: string[] | string; use_rslora: boolean } };
  f64(name: string): Float64Array;
  i32(name: string): Int32Array;
  names(prefix: string): string[];
  shape(name: string): number[];
}

export function loadReference(v: Variant): Reference {
  const file = SafetensorsFile.open(path.join(fixtureDir(v), 'reference.safetensors'));
  const cache = new Map<string, { dtype: string; shape: number[]; buffer: ArrayBufferLike }>();
  try {
    for (const n of file.names) cache.set(n, { dtype: file.info(n).dtype, shape: [...file.info(n).shape], buffer: file.readBytes(n).buffer });
  } finally {
    file.close();
  }
  const get = (n: string, dtype: 'F64' | 'I32') => {
    const t = cache.get(n) ?? missing(n);
    if (t.dtype !== dtype) throw new Error(`reference ${n} is ${t.dtype}, not ${dtype}`);
    return t.buffer;
  };
  return {
    meta: JSON.parse(readFileSync(path.join(fixtureDir(v), 'reference.json'), 'utf8')) as Reference['meta'],
    f64: (n) => new Float64Array(get(n, 'F64')),
    i32: (n) => new Int32Array(get(n, 'I32')),
    names: (prefix) => [...cache.keys()].filter((n) => n.startsWith(prefix)).map((n) => n.slice(prefix.length)),
    shape: (n) => (cache.get(n) ?? missing(n)).shape,
  };
}

function missing(n: string): never {
  throw new Error(`reference has no tensor ${n}`);
}

/** max |a - b| / max |b|: the error relative to the reference's scale. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return d / (m || 1);
}
