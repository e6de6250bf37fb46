// Initial values: random base weights for tests and benchmarks (Hugging Face's scheme: normal with
// std 0.02, norms at one, biases at zero) and LoRA's PEFT initialization (A uniform in ±1/√in,
// as kaiming_uniform with a=√5 gives; B zero, so the adapted model starts equal to the base).
import { Rng } from '../train/rng';
import type { Shape } from '../ir/types';
import { numel } from '../ir/types';

export interface NamedShape {
  name: string;
  shape: Shape;
}

export function initBaseWeights(params: readonly NamedShape[], seed: number, std = 0.02): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const out = new Map<string, Float32Array>();
  for (const p of params) {
    const data = new Float32Array(numel(p.shape));
    if (p.name.endsWith('norm.weight')) data.fill(1);
    else if (!p.name.endsWith('.bias')) for (let i = 0; i < data.length; i++) data[i] = std * rng.normal();
    out.set(p.name, data);
  }
  return out;
}

/** Fills a LoRA parameter in place: A ~ U(±1/√in), B = 0 (or small noise when `nonZeroB`, for gradient checks). */
export function initLoraParam(name: string, shape: Shape, target: Float32Array | Float64Array, rng: Rng, nonZeroB = false): void {
  if (name.endsWith('lora_A.weight')) {
    const bound = 1 / Math.sqrt(shape[1]!);
    for (let i = 0; i < target.length; i++) target[i] = rng.uniform(-bound, bound);
  } else if (nonZeroB) {
    for (let i = 0; i < target.length; i++) target[i] = 0.05 * rng.normal();
  } else {
    target.fill(0);
  }
}
