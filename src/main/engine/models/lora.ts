// Adapter configuration and LoRA as a wrapper around Linear, with PEFT semantics:
// y = x·Wᵀ (+ bias) + (alpha/r)·x·Aᵀ·Bᵀ, A [r, in] and B [out, r], named `<module>.lora_A.weight`
// and `<module>.lora_B.weight` under the wrapped module (PEFT's saved keys add `base_model.model.`).
// rsLoRA scales by alpha/√r instead. GPT-2's Conv1D modules (c_attn, c_proj, c_fc) are targets too.
import { InvalidInputError } from '../../../shared/errors';
import type { GraphBuilder } from '../ir/builder';
import type { Value } from '../ir/graph';
import { numel } from '../ir/types';
import type { Linear, LinearLike } from './layers';

export const LORA_TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj', 'c_attn', 'c_proj', 'c_fc'] as const;
export type LoraTarget = (typeof LORA_TARGETS)[number];

export type AdapterConfig =
  | { kind: 'lora'; r: number; alpha: number; targetModules: readonly LoraTarget[]; useRslora?: boolean }
  | { kind: 'full' };

export function validateAdapter(adapter: AdapterConfig): AdapterConfig {
  if (adapter.kind === 'full') return adapter;
  if (!Number.isInteger(adapter.r) || adapter.r < 1 || adapter.r > 4096) throw new InvalidInputError(`LoRA rank r must be an integer between 1 and 4096, got ${adapter.r}`);
  if (!Number.isFinite(adapter.alpha) || adapter.alpha <= 0) throw new InvalidInputError(`LoRA alpha must be a positive number, got ${adapter.alpha}`);
  if (adapter.targetModules.length === 0) throw new InvalidInputError('LoRA target modules must name at least one module');
  for (const t of adapter.targetModules) {
    if (!(LORA_TARGETS as readonly string[]).includes(t)) throw new InvalidInputError(`LoRA target module "${t}" is not one of ${LORA_TARGETS.join(', ')}`);
  }
  return adapter;
}

/** PEFT's scaling of the LoRA branch: alpha/r, or alpha/√r with rsLoRA. */
export function loraScaling(adapter: { r: number; alpha: number; useRslora?: boolean }): number {
  return adapter.useRslora === true ? adapter.alpha / Math.sqrt(adapter.r) : adapter.alpha / adapter.r;
}

/** The key PEFT writes for one of our LoRA parameter names. */
export function peftKey(name: string): string {
  return `base_model.model.${name}`;
}

export function isLoraParam(name: string): boolean {
  return name.endsWith('.lora_A.weight') || name.endsWith('.lora_B.weight');
}

export class LoraLinear implements LinearLike {
  readonly name: string;
  constructor(
    readonly base: Linear,
    readonly r: number,
    readonly alpha: number,
    readonly scaling = alpha / r,
  ) {
    this.name = base.name;
  }

  forward(b: GraphBuilder, x: Value): Value {
    const y = this.base.forward(b, x); // [..., out]
    return b.scope(this.name, () => {
      const A = b.param('lora_A.weight', [this.r, this.base.inFeatures]);
      const B = b.param('lora_B.weight', [this.base.outFeatures, this.r]);
      const x2 = b.reshape(x, [numel(x.shape.slice(0, -1)), this.base.inFeatures]); // [N, in]
      const h = b.mulScalar(b.matmul(x2, A, { transB: true }), this.scaling); // [N, r]
      const d = b.matmul(h, B, { transB: true }); // [N, out]
      return b.add(y, b.reshape(d, y.shape));
    });
  }
}

/** Wraps a Linear in LoRA when the adapter targets its name. */
export function adapterWrap(adapter: AdapterConfig): (linear: Linear) => LinearLike {
  if (adapter.kind === 'full') return (linear) => linear;
  const targets = new Set<string>(adapter.targetModules);
  return (linear) => (targets.has(linear.name) ? new LoraLinear(linear, adapter.r, adapter.alpha, loraScaling(adapter)) : linear);
}
