// The external-data file of a graph's base weights. Tensors are placed in name order at offsets
// aligned to 4096 bytes, so ONNX Runtime can memory-map them instead of copying (and so the same
// file serves every graph built from the same weights: train, eval, logits, any batch shape).
import { closeSync, openSync, writeSync } from 'node:fs';
import type { ExternalLocation } from './model-proto';

export const WEIGHTS_ALIGNMENT = 4096;

export interface WeightsEntry {
  name: string;
  /** Read when written (one tensor at a time, so the whole set is never held twice). */
  read(): Uint8Array;
}

export interface WeightsLayout {
  /** File name relative to the model (ONNX external data `location`). */
  location: string;
  entries: Map<string, ExternalLocation>;
  totalBytes: number;
}

export function layoutWeights(location: string, tensors: readonly { name: string; byteLength: number }[]): WeightsLayout {
  const entries = new Map<string, ExternalLocation>();
  let offset = 0;
  for (const t of [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    offset = Math.ceil(offset / WEIGHTS_ALIGNMENT) * WEIGHTS_ALIGNMENT;
    entries.set(t.name, { location, offset, length: t.byteLength });
    offset += t.byteLength;
  }
  return { location, entries, totalBytes: offset };
}

/** Writes the tensors at their layout offsets (gaps stay zero). */
export function writeWeightsFile(filePath: string, layout: WeightsLayout, tensors: readonly WeightsEntry[]): void {
  const fd = openSync(filePath, 'w');
  try {
    for (const t of tensors) {
      const bytes = t.read();
      const at = layout.entries.get(t.name);
      if (!at || at.length !== bytes.length) throw new Error(`weights layout has no slot of ${bytes.length} bytes for ${t.name}`);
      let written = 0;
      while (written < bytes.length) {
        written += writeSync(fd, bytes, written, Math.min(bytes.length - written, 1 << 26), at.offset + written);
      }
    }
  } finally {
    closeSync(fd);
  }
}
