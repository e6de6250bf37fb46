// The graphs a run needs, built from a model config, an adapter and a batch shape: `train` (loss
// and the gradient of every trainable parameter, and also everything `eval` gives, so one session
// serves both and the base weights are mapped once), `eval` (summed loss and kept-label count per
// sequence) and `logits`. The loss is computed from the hidden states a slice of the vocabulary at
// a time, so neither graph holds [tokens × vocab] logits (the train graph does not output them).
// ONNX Runtime runs every node of a graph whatever is fetched, so the train graph's gradients are
// gated on its `compute_gradients` input: with it false, the session runs the forward pass only (an
// If skips the backward nodes, onnx/gate.ts).
// Trainable parameters are graph inputs; frozen base weights are external initializers. Passes
// run on the finished graph.
import { gradients } from './autodiff/gradients';
import { GraphBuilder, type ParamRef } from './ir/builder';
import { slicedCausalLmLoss } from './ir/composite';
import { GraphError, type Value } from './ir/graph';
import { matmulFlops } from './ir/stats';
import type { FloatDType } from './ir/types';
import { adapterWrap, isLoraParam, validateAdapter, type AdapterConfig } from './models/lora';
import { createCausalLM, type ModelConfig } from './models/causal-lm';
import { optimizeGraph, type PassReport } from './passes';
import { recomputeInBackward } from './passes/recompute';
import { frozenBinding, type WeightSource } from './weights';

export type GraphKind = 'train' | 'eval' | 'logits';

export interface GraphSpec {
  kind: GraphKind;
  model: ModelConfig;
  adapter: AdapterConfig;
  batchSize: number;
  seqLen: number;
  dtype: FloatDType;
  /** Keep frozen weights stored in half precision as the checkpoint has them (float32 graphs only). */
  halfWeights?: boolean;
  /** Products with half-precision weights run in half precision (GraphBuilder.storedMatmul). */
  halfCompute?: boolean;
  /** Recompute each decoder layer in the backward instead of keeping its activations. */
  recompute?: boolean;
  /** The cross-entropy's slice budget in bytes (default LOSS_SLICE_BYTES; tests cut small vocabularies). */
  lossSliceBudget?: number;
}

/**
 * What one cross-entropy slice may take (bytes): its logits for every position and its rows of the
 * head's table, cast to the graph's float type.
 */
export const LOSS_SLICE_BYTES = 64 << 20;

/**
 * Vocabulary rows per cross-entropy slice: equal slices, each within `budget` bytes for the
 * logits of `tokens` positions and the slice's rows of a table of `hidden` columns.
 */
export function lossSliceRows(tokens: number, vocab: number, hidden: number, bytesPerValue = 4, budget = LOSS_SLICE_BYTES): number {
  const slices = Math.max(1, Math.ceil((vocab * (tokens + hidden) * bytesPerValue) / budget));
  return Math.ceil(vocab / slices);
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
    resolve: (name, shape) => (isTrainable(adapter, name) ? { kind: 'trainable' } : frozenBinding(weights, name, shape, spec.halfWeights ?? false)),
  }, { halfCompute: spec.halfCompute ?? false });
  const { batchSize: B, seqLen: T } = spec;
  const ids = b.input('input_ids', [B, T], 'int32');
  let loss: Value | undefined;
  if (spec.kind === 'logits') {
    b.output('logits', model.forward(b, ids)); // [B, T, V]
  } else {
    const labels = b.input('labels', [B, T], 'int32');
    const hidden = model.hiddenStates(b, ids); // [B, T, C]
    const table = model.headTable(b); // [V, C], as stored
    const [V, C] = table.shape as [number, number];
    const rows = lossSliceRows(B * T, V, C, spec.dtype === 'float64' ? 8 : 4, spec.lossSliceBudget);
    const sums = slicedCausalLmLoss(b, hidden, table, labels, rows);
    b.output('loss_sum', sums.lossSum);
    b.output('token_count', sums.tokenCount);
    loss = sums.loss;
  }
  const trainable = b.parameters().filter((p) => p.trainable);
  if (spec.kind === 'train') {
    if (trainable.length === 0) throw new GraphError('the adapter leaves no trainable parameter in this model');
    const firstBackward = b.graph.nodes.length;
    const grads = gradients(b, loss!, trainable.map((p) => p.value));
    b.output('loss', loss!);
    trainable.forEach((p, i) => b.output(GRAD_PREFIX + p.name, grads[i]!));
    b.gateOutputs(b.input(GRADIENTS_FLAG, [], 'bool'), trainable.map((p) => GRAD_PREFIX + p.name));
    recomputeInBackward(b.graph, firstBackward, { layers: spec.recompute ?? false, parameterGradients: grads });
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
