// The graphs a run needs, built from a model config, an adapter and a batch shape: `train` (loss
// and the gradient of every trainable parameter, and also everything `eval` and `logits` give, so
// one session serves all three and the base weights are mapped once), `eval` (summed loss and
// kept-label count per sequence) and `logits`. ONNX Runtime runs every node of a graph whatever
// is fetched, so the train graph's gradients are gated on its `compute_gradients` input: with it
// false, the session runs the forward pass only (an If skips the backward nodes, onnx/gate.ts).
// Trainable parameters are graph inputs; frozen base weights are external initializers. Passes
// run on the finished graph.
import { gradients } from './autodiff/gradients';
import { GraphBuilder, type ParamRef } from './ir/builder';
import { causalLmLoss } from './ir/composite';
import { GraphError } from './ir/graph';
import { matmulFlops } from './ir/stats';
import type { FloatDType } from './ir/types';
import { adapterWrap, isLoraParam, validateAdapter, type AdapterConfig } from './models/lora';
import { createCausalLM, type ModelConfig } from './models/causal-lm';
import { optimizeGraph, type PassReport } from './passes';
import type { WeightSource } from './weights';

export type GraphKind = 'train' | 'eval' | 'logits';

export interface GraphSpec {
  kind: GraphKind;
  model: ModelConfig;
  adapter: AdapterConfig;
  batchSize: number;
  seqLen: number;
  dtype: FloatDType;
}

export interface BuiltGraph {
  spec: GraphSpec;
  builder: GraphBuilder;
  /** Trainable parameters in graph order (the flat buffer's layout). */
  trainable: ParamRef[];
  passes: PassReport;
  matmulFlops: number;
}


export const GRAD_PREFIX = 'grad.';
/** The train graph's scalar bool input: true computes the gradients, false only the forward outputs. */
export const GRADIENTS_FLAG = 'compute_gradients';

export function isTrainable(adapter: AdapterConfig, name: string): boolean {
  return adapter.kind === 'full' || isLoraParam(name);
}

export function buildGraph(spec: GraphSpec, weights: WeightSource): BuiltGraph {
  const adapter = validateAdapter(spec.adapter);
  const model = createCausalLM(spec.model, adapterWrap(adapter));
  const b = new GraphBuilder(spec.dtype, {
    resolve: (name, shape) => {
      if (isTrainable(adapter, name)) return { kind: 'trainable' };
      const size = weights.size(name);
      if (size === undefined) throw new GraphError(`base weight ${name} (shape [${shape.join(', ')}]) is missing`);
      return { kind: 'frozen', size, read: () => weights.read(name) };
    },
  });
  const { batchSize: B, seqLen: T } = spec;
  const ids = b.input('input_ids', [B, T], 'int32');
  const logits = model.forward(b, ids); // [B, T, V]
  const trainable = b.parameters().filter((p) => p.trainable);
  if (spec.kind === 'logits') {
    b.output('logits', logits);
  } else {
    const labels = b.input('labels', [B, T], 'int32');
    const { loss, lossSum, tokenCount } = b.scope('loss', () => causalLmLoss(b, logits, labels));
    b.output('loss_sum', lossSum);
    b.output('token_count', tokenCount);
    if (spec.kind === 'train') {
      if (trainable.length === 0) throw new GraphError('the adapter leaves no trainable parameter in this model');
      const grads = gradients(b, loss, trainable.map((p) => p.value));
      b.output('loss', loss);
      trainable.forEach((p, i) => b.output(GRAD_PREFIX + p.name, grads[i]!));
      b.output('logits', logits);
      b.gateOutputs(b.input(GRADIENTS_FLAG, [], 'bool'), trainable.map((p) => GRAD_PREFIX + p.name));
    }
  }
  const passes = optimizeGraph(b.graph);
  return { spec, builder: b, trainable, passes, matmulFlops: matmulFlops(b.graph) };
}

/** Every parameter name and shape of a model (for initializing or checking base weights). */
export function parameterShapes(config: ModelConfig, adapter: AdapterConfig = { kind: 'full' }): { name: string; shape: number[] }[] {
  const model = createCausalLM(config, adapterWrap(validateAdapter(adapter)));
  const b = new GraphBuilder('float32', { resolve: () => ({ kind: 'trainable' }) });
  model.forward(b, b.input('input_ids', [1, 2], 'int32'));
  return b.parameters().map((p) => ({ name: p.name, shape: [...p.shape] }));
}
