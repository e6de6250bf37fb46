// What `dynamics model info` (and the Models view) shows about a loaded folder: architecture and
// sizes, parameter counts per stored dtype, tokenizer and generation defaults, and a memory
// estimate for LoRA training (engine/memory.ts: what a session would hold, recomputation as the
// session would decide it) and for generation at a given batch and sequence length.
import { estimateTrainingMemory, recomputeByDefault, trainingMemoryInput, type TrainingMemory } from '../memory';
import { modelShape } from '../models/causal-lm';
import { loraScaling } from '../models/lora';
import type { ModelFolder } from './folder';
import { loraParameterShapes, type LoraAdapterConfig } from './peft';

export interface ModelInfo {
  dir: string;
  architecture: string;
  parameters: number;
  storedDtypes: Record<string, number>;
  checkpointFiles: number;
  checkpointBytes: number;
  shape: ReturnType<typeof modelShape>;
  torchDtype: string | null;
  tokenizer: ModelFolder['tokenizer'];
  generation: ModelFolder['generation'];
  unusedTensors: string[];
  lora: { r: number; alpha: number; scaling: number; targets: readonly string[]; parameters: number };
  training: TrainingMemory & { batchSize: number; seqLen: number };
  /** Generation with a KV cache of `seqLen` positions, batch 1. */
  generationBytes: number;
}

export function modelInfo(folder: ModelFolder, opts: { batchSize: number; seqLen: number; lora: LoraAdapterConfig }): ModelInfo {
  const shape = modelShape(folder.config.model);
  const { batchSize: B, seqLen: T } = opts;
  const parameters = folder.parameterCount;
  const lora = loraParameterShapes(folder.config.model, opts.lora);
  const loraParams = lora.reduce((a, p) => a + p.shape[0]! * p.shape[1]!, 0);
  const input = trainingMemoryInput(folder.config.model, opts.lora, folder.weights, true, B, T);
  const training = estimateTrainingMemory(input, recomputeByDefault(input));
  // generation on the CPU converts the weights to float32 (generationPrecision) and keeps a key/value cache of T positions
  const kvBytes = 4 * 2 * shape.layers * shape.kvHeads * shape.headDim * T;
  let checkpointBytes = 0;
  for (const f of folder.weights.files) checkpointBytes += f.size;
  return {
    dir: folder.dir,
    architecture: folder.architecture,
    parameters,
    storedDtypes: folder.weights.dtypeCounts(),
    checkpointFiles: folder.weights.files.length,
    checkpointBytes,
    shape,
    torchDtype: folder.config.torchDtype,
    tokenizer: folder.tokenizer,
    generation: folder.generation,
    unusedTensors: [...folder.weights.unused],
    lora: { r: opts.lora.r, alpha: opts.lora.alpha, scaling: loraScaling(opts.lora), targets: opts.lora.targetModules, parameters: loraParams },
    training: { batchSize: B, seqLen: T, ...training },
    generationBytes: 4 * parameters + kvBytes + 4 * shape.vocab * 2,
  };
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

function count(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}K`;
  return String(n);
}

/** The human-readable report of `dynamics model info`. */
export function formatModelInfo(i: ModelInfo): string {
  const s = i.shape;
  const dtypes = Object.entries(i.storedDtypes).map(([d, n]) => `${d} ${count(n)}`).join(', ');
  const positions = s.invFreq ? `rotary${s.slidingWindow ? `, sliding window ${s.slidingWindow}` : ''}` : `learned, ${s.maxPositions} positions`;
  const tok = i.tokenizer
    ? `${i.tokenizer.model}, ${i.tokenizer.vocabSize} tokens (ids up to ${i.tokenizer.maxId})${i.tokenizer.eosToken ? `, eos ${JSON.stringify(i.tokenizer.eosToken)}` : ''}${i.tokenizer.hasChatTemplate ? ', chat template' : ''}`
    : 'none (tokenizer.json missing)';
  const g = i.generation;
  const t = i.training;
  return [
    `${i.dir}`,
    `  architecture   ${i.architecture}${i.torchDtype ? ` (torch_dtype ${i.torchDtype})` : ''}`,
    `  parameters     ${count(i.parameters)} (${i.parameters}) stored as ${dtypes}, in ${i.checkpointFiles} file${i.checkpointFiles > 1 ? 's' : ''} of ${formatBytes(i.checkpointBytes)}`,
    `  shape          ${s.layers} layers, hidden ${s.hidden}, MLP ${s.intermediate}, ${s.heads} heads (${s.kvHeads} key/value) of ${s.headDim}, vocabulary ${s.vocab}${s.tie ? ', tied embeddings' : ''}`,
    `  positions      ${positions}`,
    `  tokenizer      ${tok}`,
    `  generation     ${g.doSample ? `sampling (temperature ${g.temperature}, top_p ${g.topP}, top_k ${g.topK})` : 'greedy'}, stops at ${g.eosTokenIds.length ? g.eosTokenIds.join(', ') : 'no EOS id'}`,
    ...(i.unusedTensors.length ? [`  unused         ${i.unusedTensors.length} checkpoint tensors the model does not use (e.g. ${i.unusedTensors[0]})`] : []),
    `  LoRA           r ${i.lora.r}, alpha ${i.lora.alpha} (scaling ${Number(i.lora.scaling.toPrecision(4))}), ${i.lora.targets.join(', ')}: ${count(i.lora.parameters)} trainable parameters`,
    ...(s.maxPositions !== null && t.seqLen > s.maxPositions ? [`  note           sequences of ${t.seqLen} tokens are longer than the model's ${s.maxPositions} positions`] : []),
    `  memory (est.)  LoRA training, batch ${t.batchSize} × ${t.seqLen} tokens: ${formatBytes(t.totalBytes)} peak (weights ${formatBytes(t.weightsBytes)}, activations ${formatBytes(t.activationBytes)}${t.recompute ? ' with layers recomputed' : ''}, loss slice ${formatBytes(t.lossSliceBytes)}, LoRA state ${formatBytes(t.loraStateBytes)}, and ONNX Runtime's overhead)`,
    `                 generation, ${t.seqLen} positions: ${formatBytes(i.generationBytes)}`,
  ].join('\n');
}
