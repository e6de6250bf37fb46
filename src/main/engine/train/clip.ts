// Global gradient norm and clipping (PyTorch's clip_grad_norm_: scale by max/(norm + 1e-6) when
// the norm exceeds max). The norm is summed in float64; a non-finite norm means a bad step.
import type { FloatArray } from '../ir/types';

export function globalNorm(grads: FloatArray): number {
  let s = 0;
  for (let i = 0; i < grads.length; i++) {
    const g = grads[i]!;
    s += g * g;
  }
  return Math.sqrt(s);
}

/** Scales `grads` in place so their norm is at most `maxNorm`; returns the factor applied. */
export function clipToNorm(grads: FloatArray, norm: number, maxNorm: number): number {
  if (!(norm > maxNorm)) return 1;
  const scale = maxNorm / (norm + 1e-6);
  for (let i = 0; i < grads.length; i++) grads[i]! *= scale;
  return scale;
}
