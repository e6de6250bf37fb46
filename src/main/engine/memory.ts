// What a LoRA train step holds in memory, as arithmetic over the engine's graphs (not a
// measurement): the base weights as stored (half precision stays half) and the float32 cast of the
// largest layer weight while it is used, the activations the backward reads (all of them, or with
// recomputation each layer's input and one layer at a time), one cross-entropy slice, and the LoRA
// state; what the step allocates counted with the overhead `npm run bench:models` measured for
// ONNX Runtime's arena and the backward's temporaries. `dynamics model info` prints it, the
// session's recomputation default follows it, and the benchmark prints it beside each peak.
import os from 'node:os';
import { lossSliceRows, parameterShapes } from './graphs';
import { numel } from './ir/types';
import { modelShape, type ModelConfig, type ModelShape } from './models/causal-lm';
import { isLoraParam, type AdapterConfig } from './models/lora';
import { hasHalfWeights, type WeightSource } from './weights';

/**
 * A process's own memory before any graph (Node and ONNX Runtime: 270-330 MiB measured), and the
 * factor between the measured peak and the parts a step allocates (the arena's rounding and the
 * backward's temporaries), both from npm run bench:models: Qwen2.5-0.5B's shapes in bf16 at batch
 * 1, 2 and 4 × 512 with and without recomputation, and 1.5B's at batch 1. The weights ONNX Runtime
 * maps from the graph's weights file count once (their resident bytes were measured at 1.00x).
 */
export const PROCESS_BASELINE_BYTES = 300 * 2 ** 20;
export const MEASURED_OVERHEAD = 1.2;

export interface TrainingMemory {
  /** Base weights as stored, plus the float32 cast of the largest layer weight while it is used. */
  weightsBytes: number;
  /** Activations the backward reads (with recomputation: each layer's input, and one layer at a time). */
  activationBytes: number;
  /** One cross-entropy slice: its logits for every position, their exponent and their gradient. */
  lossSliceBytes: number;
  /** LoRA values, gradients and two AdamW moments. */
  loraStateBytes: number;
  /** The estimated peak: the stored weights and the process's baseline, plus the rest times MEASURED_OVERHEAD. */
  totalBytes: number;
  recompute: boolean;
}

export interface TrainingMemoryInput {
  shape: ModelShape;
  /** Base parameters, and the element count of the largest base tensor of a layer. */
  parameters: number;
  largestTensor: number;
  /** Bytes per stored base weight (2 for bf16/f16 kept as stored, 4 for float32). */
  weightBytesPerParameter: number;
  loraParameters: number;
  batchSize: number;
  seqLen: number;
}

/** The input of the estimate for a model, an adapter and base weights (half precision kept where `halfWeights` and the weights have it). */
export function trainingMemoryInput(model: ModelConfig, adapter: AdapterConfig, weights: WeightSource, halfWeights: boolean, batchSize: number, seqLen: number): TrainingMemoryInput {
  const base = parameterShapes(model);
  const sizes = base.map((p) => numel(p.shape));
  const parameters = sizes.reduce((a, n) => a + n, 0);
  // the vocabulary-sized tables are cast a slice (or a row) at a time
  const vocab = modelShape(model).vocab;
  const layerSizes = base.filter((p) => p.shape[0] !== vocab).map((p) => numel(p.shape));
  const trainable = adapter.kind === 'lora' ? parameterShapes(model, adapter).filter((p) => isLoraParam(p.name)).reduce((a, p) => a + numel(p.shape), 0) : parameters;
  const half = halfWeights && hasHalfWeights(weights, base.map((p) => p.name));
  return {
    shape: modelShape(model), parameters, largestTensor: Math.max(0, ...layerSizes), weightBytesPerParameter: half ? 2 : 4,
    loraParameters: trainable, batchSize, seqLen,
  };
}

/** float32 values the backward reads per position of one layer: norms, q/k/v, attention output, MLP (×5 F), attention probabilities per key. */
function layerFloatsPerPosition(s: ModelShape, T: number): number {
  return 8 * s.hidden + 2 * (s.heads + 2 * s.kvHeads) * s.headDim + 5 * s.intermediate + s.heads * T;
}

/** `halfCompute`: products with the half-precision weights run in half precision, so no weight is cast. */
export function estimateTrainingMemory(m: TrainingMemoryInput, recompute: boolean, halfCompute = false): TrainingMemory {
  const { shape: s, batchSize: B, seqLen: T } = m;
  const storedBytes = m.parameters * m.weightBytesPerParameter;
  const castBytes = m.weightBytesPerParameter < 4 && !halfCompute ? 4 * m.largestTensor : 0;
  const weightsBytes = storedBytes + castBytes;
  const perLayer = 4 * B * T * layerFloatsPerPosition(s, T);
  // with recomputation: every layer's input, and one layer's activations twice (its recomputed
  // forward, and the gradients of its backward)
  const activationBytes = recompute ? 4 * B * T * s.hidden * s.layers + 2 * perLayer : perLayer * s.layers;
  const lossSliceBytes = 4 * 3 * (B * T + s.hidden) * lossSliceRows(B * T, s.vocab, s.hidden);
  const loraStateBytes = 4 * 4 * m.loraParameters;
  const allocated = castBytes + activationBytes + lossSliceBytes + loraStateBytes;
  const totalBytes = storedBytes + PROCESS_BASELINE_BYTES + allocated * MEASURED_OVERHEAD;
  return { weightsBytes, activationBytes, lossSliceBytes, loraStateBytes, totalBytes, recompute };
}

/** What a session's defaults may plan to fill: a share of the memory the step runs in. */
export interface MemoryBudget {
  bytes: number;
  share: number;
}

/**
 * The machine's memory, of which half is left to the system and the app; on CUDA, the GPU's
 * (`gpuBytes`, when known), of which a tenth is left to the CUDA context and fragmentation.
 */
export function memoryBudget(device: 'cpu' | 'cuda', gpuBytes?: number): MemoryBudget {
  return device === 'cuda' && gpuBytes ? { bytes: gpuBytes, share: 0.9 } : { bytes: os.totalmem(), share: 0.5 };
}

/**
 * Whether a session recomputes layers by default: where the estimated peak without it would exceed
 * the budget's share. Below that it keeps the activations and trains faster (npm run bench:models:
 * recomputation costs 1.1-1.3x the step time at 0.5B, batch 2-4).
 */
export function recomputeByDefault(m: TrainingMemoryInput, budget: MemoryBudget = memoryBudget('cpu'), halfCompute = false): boolean {
  return estimateTrainingMemory(m, false, halfCompute).totalBytes > budget.bytes * budget.share;
}
