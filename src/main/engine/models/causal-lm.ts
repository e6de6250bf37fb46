// The causal language models the engine can build, behind one factory: the Llama family
// (LlamaForCausalLM's config switches cover Llama, Mistral, Qwen2 and Qwen3) and GPT-2. Graph
// builders and loaders call `createCausalLM` and `modelShape` and never ask which one it is.
import { decoderDims, type DecoderConfig } from './config';
import { GPT2LMHeadModel, gpt2Dims, isGpt2Config, type Gpt2Config } from './gpt2';
import { LlamaForCausalLM, type LinearFactory } from './llama';

export type ModelConfig = DecoderConfig | Gpt2Config;
export type CausalLM = LlamaForCausalLM | GPT2LMHeadModel;

export function createCausalLM(config: ModelConfig, linear: LinearFactory = (l) => l): CausalLM {
  return isGpt2Config(config) ? new GPT2LMHeadModel(config, linear) : new LlamaForCausalLM(config, linear);
}

/** The sizes generation and memory estimates need, for any architecture. */
export interface ModelShape {
  vocab: number;
  hidden: number;
  intermediate: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  /** Learned position table size (GPT-2), or null when positions are rotary (no hard limit). */
  maxPositions: number | null;
  /** RoPE inverse frequencies, or null for learned positions. */
  invFreq: number[] | null;
  slidingWindow: number | null;
  tie: boolean;
}

export function modelShape(config: ModelConfig): ModelShape {
  if (isGpt2Config(config)) {
    const d = gpt2Dims(config);
    return {
      vocab: d.vocab, hidden: d.hidden, intermediate: d.inner, layers: d.layers, heads: d.heads, kvHeads: d.heads, headDim: d.headDim,
      maxPositions: d.positions, invFreq: null, slidingWindow: null, tie: d.tie,
    };
  }
  const d = decoderDims(config);
  return {
    vocab: d.vocab, hidden: d.hidden, intermediate: d.intermediate, layers: d.layers, heads: d.heads, kvHeads: d.kvHeads, headDim: d.headDim,
    maxPositions: null, invFreq: d.invFreq, slidingWindow: d.slidingWindow, tie: d.tie,
  };
}

export function modelVocab(config: ModelConfig): number {
  return modelShape(config).vocab;
}
