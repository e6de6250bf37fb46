// models.*: the base models a run can start from — the ones bundled with the app
// (resources/models) and Hugging Face folders the user registered — with what a person choosing
// one needs to know: architecture, size, dtypes, tokenizer, and the memory a run would take.
import { z } from 'zod';
import { method } from '../rpc';

/**
 * A model's id: `bundled:NAME` for a bundled model, `imported:N` for a registered folder. Run
 * configurations do not hold ids: they hold `configPath` (what `model.path` takes).
 */
export const modelIdSchema = z.string().min(1).max(300);

export type ModelOrigin = 'bundled' | 'imported';

export interface ModelSummary {
  id: string;
  name: string;
  origin: ModelOrigin;
  /** The folder on the machine that runs the core. */
  dir: string;
  /** The value a run configuration's `model.path` takes for this model (`bundled:NAME`, or the folder). */
  configPath: string;
  /** e.g. "llama", "qwen2", "gpt2"; null when the folder could not be read. */
  architecture: string | null;
  parameters: number | null;
  /** On-disk size of the weights. */
  bytes: number | null;
  hasTokenizer: boolean;
  hasChatTemplate: boolean;
  /** Registered or found (ms since the epoch); null for bundled models. */
  createdAt: number | null;
  /** Set when the folder no longer loads (moved, deleted, damaged): the reason in words. */
  problem: string | null;
}

export interface MemoryEstimate {
  /** Base weights as stored (half precision kept), plus the float32 cast of the largest while used. */
  weightsBytes: number;
  loraStateBytes: number;
  /** Activations the backward reads (with recomputation: each layer's input and one layer). */
  activationBytes: number;
  /** One cross-entropy slice of the vocabulary (the loss never holds all the logits at once). */
  lossSliceBytes: number;
  /** The estimated peak: the parts times the overhead the models benchmark measured. */
  totalBytes: number;
  /** Whether the session recomputes layers in the backward (its default at this size). */
  recompute: boolean;
}

export interface ModelDetails extends ModelSummary {
  shape: {
    layers: number;
    hidden: number;
    intermediate: number;
    heads: number;
    kvHeads: number;
    headDim: number;
    vocab: number;
    /** null for rotary models without a stated limit. */
    maxPositions: number | null;
    tiedEmbeddings: boolean;
    slidingWindow: number | null;
  };
  /** Parameter counts by stored dtype, e.g. {"BF16": 494032768}. */
  storedDtypes: Record<string, number>;
  checkpointFiles: number;
  torchDtype: string | null;
  tokenizer: {
    model: string;
    vocabSize: number;
    bosToken: string | null;
    eosToken: string | null;
    hasChatTemplate: boolean;
  } | null;
  generation: { doSample: boolean; temperature: number; topP: number; topK: number; maxNewTokens: number | null };
  /** The LoRA adapter the estimate assumes. */
  lora: { rank: number; alpha: number; targets: string[]; parameters: number };
  /** LoRA training at batchSize × seqLen tokens (an estimate from the graph's arithmetic, not a measurement). */
  training: MemoryEstimate & { batchSize: number; seqLen: number };
  /** Generation with a KV cache of seqLen positions, batch 1. */
  generationBytes: number;
  /** Sentences worth showing: sequences longer than the model's positions, unused tensors… */
  notes: string[];
}

export interface ModelImportInput {
  /** A Hugging Face model folder on the machine that runs the core. */
  path: string;
  /** Shown in lists; defaults to the folder's name. */
  name?: string;
  /** Chosen by the caller; `model.import.progress` events carry it. */
  progressId?: string;
}

export const modelsService = {
  /** Bundled models first, then registered folders by name. */
  list: method(z.undefined()).returns<ModelSummary[]>(),
  /** Validates the folder (config.json, safetensors, tokenizer files) and registers it; errors name the file and field. */
  import: method(
    z.strictObject({ path: z.string().min(1).max(4096), name: z.string().min(1).max(200).optional(), progressId: z.string().min(1).max(100).optional() }),
  ).returns<ModelSummary>(),
  /** Architecture, parameters, dtypes, tokenizer and a memory estimate for LoRA training at batchSize × seqLen. */
  info: method(
    z.strictObject({
      id: modelIdSchema,
      batchSize: z.number().int().min(1).max(4096).optional(),
      seqLen: z.number().int().min(1).max(1 << 20).optional(),
      loraRank: z.number().int().min(1).max(4096).optional(),
      loraTargets: z.array(z.string().min(1).max(64)).min(1).max(16).optional(),
    }),
  ).returns<ModelDetails>(),
  /** Forgets a registered folder (its files stay where they are); bundled models cannot be removed. */
  remove: method(z.strictObject({ id: modelIdSchema })).returns<void>(),
};
