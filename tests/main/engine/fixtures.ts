// Test helper: reads the engine's reference fixtures (safetensors written by
// scripts/reference/dump_engine_fixtures.py, float64 and int32 only) and their JSON metadata.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { DecoderConfig } from '../../../src/main/engine/models/config';
import type { LoraTarget } from '../../../src/main/engine/models/lora';

export const FIXTURE_DIR = path.join(import.meta.dirname, '..', '..', 'fixtures', 'engine');

export interface FixtureTensor {
  shape: number[];
  data: Float64Array | Int32Array;
}

export interface Fixture {
  meta: {
    config: DecoderConfig;
    lora: { r: number; alpha: number; target_modules: LoraTarget[] };
    adamw: { lr: number; betas: [number, number]; eps: number; weight_decay: number; max_grad_norm: number };
    batch: { batch_size: number; seq_len: number };
  };
  tensors: Map<string, FixtureTensor>;
  f64(name: string): Float64Array;
  i32(name: string): Int32Array;
  /** Names under `prefix`, with the prefix removed. */
  names(prefix: string): string[];
}

export function loadFixture(name: string): Fixture {
  const buf = readFileSync(path.join(FIXTURE_DIR, `${name}.safetensors`));
  const headerLen = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + headerLen).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const base = 8 + headerLen;
  const tensors = new Map<string, FixtureTensor>();
  for (const [k, h] of Object.entries(header)) {
    const bytes = buf.subarray(base + h.data_offsets[0], base + h.data_offsets[1]);
    const copy = new Uint8Array(bytes).buffer; // aligned copy
    tensors.set(k, { shape: h.shape, data: h.dtype === 'F64' ? new Float64Array(copy) : new Int32Array(copy) });
  }
  const meta = JSON.parse(readFileSync(path.join(FIXTURE_DIR, `${name}.json`), 'utf8')) as Fixture['meta'];
  const get = (n: string) => {
    const t = tensors.get(n);
    if (!t) throw new Error(`fixture ${name} has no tensor ${n}`);
    return t.data;
  };
  return {
    meta,
    tensors,
    f64: (n) => get(n) as Float64Array,
    i32: (n) => get(n) as Int32Array,
    names: (prefix) => [...tensors.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length)),
  };
}

/** max |a - b| / (1 + max |b|) */
export function relMaxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return d / (1e-30 + m);
}
