// Base weights as the engine reads them: by Hugging Face name, sized up front, read on demand. A
// loader can hand over a lazy source (e.g. over safetensors files): with a weights key and a warm
// graph cache, the engine never reads the weights at all, and ONNX Runtime maps the cached file.
import type { ParamBinding } from './ir/builder';
import { GraphError } from './ir/graph';
import type { HalfDType, Shape } from './ir/types';

export interface WeightSource {
  /** Element count of a weight, or undefined when the checkpoint has none by that name. */
  size(name: string): number | undefined;
  /** The weight's values ([out, in] for linear layers). */
  read(name: string): Float32Array;
  /** The weight's half-precision storage type, when it is stored in one (a checkpoint in bf16 or f16). */
  halfDtype?(name: string): HalfDType | undefined;
  /** The weight's bits as stored, for a weight whose halfDtype is given. */
  readHalf?(name: string): Uint16Array;
}

/**
 * How a graph binds a frozen base weight: in its half-precision storage type where the source has
 * one and `half` asks for it (the weight is then cast where it is used), else converted to floats.
 */
export function frozenBinding(weights: WeightSource, name: string, shape: Shape, half: boolean): ParamBinding {
  const size = weights.size(name);
  if (size === undefined) throw new GraphError(`base weight ${name} (shape [${shape.join(', ')}]) is missing`);
  const stored = half ? weights.halfDtype?.(name) : undefined;
  if (stored && weights.readHalf) {
    const readHalf = weights.readHalf.bind(weights);
    return { kind: 'frozen', size, stored, read: () => readHalf(name) };
  }
  return { kind: 'frozen', size, read: () => weights.read(name) };
}

/** Whether any weight of the source is stored in half precision. */
export function hasHalfWeights(weights: WeightSource, names: Iterable<string>): boolean {
  if (!weights.halfDtype) return false;
  for (const n of names) if (weights.halfDtype(n)) return true;
  return false;
}

export function weightsFromMap(map: ReadonlyMap<string, Float32Array>): WeightSource {
  return {
    size: (name) => map.get(name)?.length,
    read: (name) => {
      const w = map.get(name);
      if (!w) throw new Error(`no base weight named ${name}`);
      return w;
    },
  };
}

export function asWeightSource(w: WeightSource | ReadonlyMap<string, Float32Array>): WeightSource {
  return w instanceof Map ? weightsFromMap(w) : (w as WeightSource);
}
