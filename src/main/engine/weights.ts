// Base weights as the engine reads them: by Hugging Face name, sized up front, read on demand. A
// loader can hand over a lazy source (e.g. over safetensors files): with a weights key and a warm
// graph cache, the engine never reads the weights at all, and ONNX Runtime maps the cached file.
export interface WeightSource {
  /** Element count of a weight, or undefined when the checkpoint has none by that name. */
  size(name: string): number | undefined;
  /** The weight's values ([out, in] for linear layers). */
  read(name: string): Float32Array;
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
