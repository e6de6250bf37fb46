// The generation graph for one shape: N new tokens against a key/value cache of capacity S (batch
// 1). Inputs: input_ids [1, N], position_ids [1, N] (learned positions only), rope_cos/rope_sin
// [N, D] (rotary models only), attn_mask [N, S + N], pick [1], past_key.i / past_value.i
// [1, K, S, D], and the adapter's LoRA tensors; outputs: logits [1, 1, V] of the picked position
// and present_key.i / present_value.i [1, K, N, D]. Base weights are external initializers, so
// every shape shares the model's weights file in the graph cache.
import { GraphBuilder } from '../ir/builder';
import { cachedStep } from '../models/cached-step';
import { createCausalLM, modelShape, type ModelConfig } from '../models/causal-lm';
import { adapterWrap, isLoraParam, validateAdapter, type AdapterConfig } from '../models/lora';
import { optimizeGraph } from '../passes';
import { frozenBinding, type WeightSource } from '../weights';

export interface StepGraphSpec {
  model: ModelConfig;
  /** LoRA adapter applied on the fly (its tensors are inputs), or none. */
  adapter?: Extract<AdapterConfig, { kind: 'lora' }>;
  /** Cache slots. */
  capacity: number;
  /** New tokens per step. */
  tokens: number;
  /** Keep half-precision weights as stored (see generationPrecision), and compute in them. */
  halfWeights?: boolean;
  halfCompute?: boolean;
}

export function buildStepGraph(spec: StepGraphSpec, weights: WeightSource): GraphBuilder {
  const shape = modelShape(spec.model);
  const model = createCausalLM(spec.model, spec.adapter ? adapterWrap(validateAdapter(spec.adapter)) : (l) => l);
  const b = new GraphBuilder('float32', {
    resolve: (name, s) => (isLoraParam(name) ? { kind: 'trainable' } : frozenBinding(weights, name, s, spec.halfWeights ?? false)),
  }, { halfCompute: spec.halfCompute ?? false });
  const { capacity: S, tokens: N } = spec;
  const { kvHeads: K, headDim: D, layers: L } = shape;
  const ids = b.input('input_ids', [1, N], 'int32');
  const positions = shape.maxPositions !== null ? b.input('position_ids', [1, N], 'int32') : undefined;
  const rope = shape.invFreq ? { cos: b.input('rope_cos', [N, D], 'float32'), sin: b.input('rope_sin', [N, D], 'float32') } : {};
  const mask = b.input('attn_mask', [N, S + N], 'float32');
  const pick = b.input('pick', [1], 'int32');
  const past = Array.from({ length: L }, (_, i) => ({
    key: b.input(`past_key.${i}`, [1, K, S, D], 'float32'),
    value: b.input(`past_value.${i}`, [1, K, S, D], 'float32'),
  }));
  const out = cachedStep(b, model, { ids, positions, ...rope, mask, past, pick });
  b.output('logits', out.logits);
  out.present.forEach((p, i) => {
    b.output(`present_key.${i}`, p.key);
    b.output(`present_value.${i}`, p.value);
  });
  optimizeGraph(b.graph);
  return b;
}
