// The trainable parameters as one flat buffer with named views: the optimizer runs one loop over
// the buffer, sessions are fed subarray views of it (no copies), and snapshots copy one array.
import type { FloatArray, FloatDType, Shape } from '../ir/types';
import { numel } from '../ir/types';

export interface FlatEntry {
  name: string;
  shape: Shape;
  offset: number;
  size: number;
}

export class FlatLayout {
  readonly entries: readonly FlatEntry[];
  readonly size: number;
  private readonly byName: Map<string, FlatEntry>;

  constructor(params: readonly { name: string; shape: Shape }[]) {
    let offset = 0;
    this.entries = params.map((p) => {
      const e = { name: p.name, shape: [...p.shape], offset, size: numel(p.shape) };
      offset += e.size;
      return e;
    });
    this.size = offset;
    this.byName = new Map(this.entries.map((e) => [e.name, e]));
  }

  entry(name: string): FlatEntry | undefined {
    return this.byName.get(name);
  }

  allocate(dtype: FloatDType): FloatArray {
    return dtype === 'float64' ? new Float64Array(this.size) : new Float32Array(this.size);
  }

  /** The views of `buffer` for each entry, by name. */
  views<T extends FloatArray>(buffer: T): Map<string, T> {
    const out = new Map<string, T>();
    for (const e of this.entries) out.set(e.name, buffer.subarray(e.offset, e.offset + e.size) as T);
    return out;
  }
}
