// AdamW as one fused loop over the flat parameter buffer, with PyTorch's arithmetic: decoupled
// weight decay p·(1 - lr·wd), bias-corrected moments, eps added after the square root. Its state
// (step and both moments) round-trips exactly through get/set, for snapshots and checkpoints.
import { InvalidInputError } from '../../../shared/errors';
import type { FloatArray } from '../ir/types';
import type { FlatLayout } from './flat-params';

export interface AdamWConfig {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export const DEFAULT_ADAMW: AdamWConfig = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.0 };

export interface AdamWState {
  /** Updates applied so far (the bias-correction step). */
  step: number;
  m: Float32Array | Float64Array;
  v: Float32Array | Float64Array;
}

/** Hugging Face's rule: no weight decay on biases and norm weights. */
export function decays(name: string): boolean {
  return !(name.endsWith('.bias') || /norm\.weight$/.test(name));
}

export class AdamW {
  private m: FloatArray;
  private v: FloatArray;
  private t = 0;
  /** Per-element weight-decay factor (0 or 1), or undefined when every element decays. */
  private readonly decayMask?: Uint8Array;

  constructor(
    readonly config: AdamWConfig,
    readonly layout: FlatLayout,
    buffer: FloatArray,
  ) {
    for (const [k, v] of Object.entries(config)) {
      if (!Number.isFinite(v) || v < 0) throw new InvalidInputError(`optimizer setting ${k} must be a non-negative number, got ${v}`);
    }
    if (config.beta1 >= 1 || config.beta2 >= 1) throw new InvalidInputError('optimizer betas must be below 1');
    this.m = buffer instanceof Float64Array ? new Float64Array(buffer.length) : new Float32Array(buffer.length);
    this.v = buffer instanceof Float64Array ? new Float64Array(buffer.length) : new Float32Array(buffer.length);
    if (layout.entries.some((e) => !decays(e.name))) {
      this.decayMask = new Uint8Array(layout.size);
      for (const e of layout.entries) if (decays(e.name)) this.decayMask.fill(1, e.offset, e.offset + e.size);
    }
  }

  get step(): number {
    return this.t;
  }

  /** One update of `params` from `grads` at learning rate `lr`. */
  update(params: FloatArray, grads: FloatArray, lr: number): void {
    this.t++;
    const { beta1: b1, beta2: b2, eps, weightDecay } = this.config;
    const stepSize = lr / (1 - b1 ** this.t);
    const bc2Sqrt = Math.sqrt(1 - b2 ** this.t);
    const decay = 1 - lr * weightDecay;
    const ob1 = 1 - b1;
    const ob2 = 1 - b2;
    const { m, v } = this;
    const mask = this.decayMask;
    const n = params.length;
    for (let i = 0; i < n; i++) {
      const g = grads[i]!;
      const mi = b1 * m[i]! + ob1 * g;
      const vi = b2 * v[i]! + ob2 * g * g;
      m[i] = mi;
      v[i] = vi;
      const p = mask === undefined || mask[i] === 1 ? params[i]! * decay : params[i]!;
      params[i] = p - (stepSize * mi) / (Math.sqrt(vi) / bc2Sqrt + eps);
    }
  }

  getState(): AdamWState {
    return { step: this.t, m: this.m.slice(), v: this.v.slice() };
  }

  setState(state: AdamWState): void {
    if (state.m.length !== this.m.length || state.v.length !== this.v.length) {
      throw new InvalidInputError(`optimizer state holds ${state.m.length} values, this session trains ${this.m.length}`);
    }
    if (!Number.isInteger(state.step) || state.step < 0) throw new InvalidInputError(`optimizer state step must be a non-negative integer, got ${state.step}`);
    this.t = state.step;
    this.m.set(state.m);
    this.v.set(state.v);
  }
}
