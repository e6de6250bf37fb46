// The engine benchmark's model configs (the three sizes of the engine's goals, and the bundled
// demo model's shape as the demo fine-tunes it) and their fixed inputs.
import { parameterShapes } from '../../src/main/engine/graphs';
import type { DecoderConfig } from '../../src/main/engine/models/config';
import { initBaseWeights } from '../../src/main/engine/models/init';
import type { AdapterConfig } from '../../src/main/engine/models/lora';
import type { TokenBatch } from '../../src/main/engine/batch';
import { Rng } from '../../src/main/engine/train/rng';

export interface BenchConfig {
  name: 'small' | 'medium' | 'large' | 'bundled';
  model: DecoderConfig;
  adapter: Extract<AdapterConfig, { kind: 'lora' }>;
  batchSize: number;
  seqLen: number;
  /** Steps per timed measurement (one measurement per round and thread count). */
  steps: number;
}

const llama = (vocab: number, d: number, layers: number, heads: number, kvHeads: number): DecoderConfig => ({
  vocab_size: vocab, hidden_size: d, intermediate_size: 3 * d, num_hidden_layers: layers, num_attention_heads: heads,
  num_key_value_heads: kvHeads, rms_norm_eps: 1e-5, rope_theta: 10000,
});

const QKVO = ['q_proj', 'k_proj', 'v_proj', 'o_proj'] as const;
const ALL = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;

export const BENCH_CONFIGS: BenchConfig[] = [
  { name: 'small', model: llama(256, 128, 1, 4, 4), adapter: { kind: 'lora', r: 8, alpha: 16, targetModules: [...QKVO] }, batchSize: 8, seqLen: 64, steps: 20 },
  { name: 'medium', model: llama(256, 256, 4, 4, 4), adapter: { kind: 'lora', r: 8, alpha: 16, targetModules: [...QKVO] }, batchSize: 8, seqLen: 128, steps: 4 },
  { name: 'large', model: llama(32000, 512, 8, 8, 4), adapter: { kind: 'lora', r: 16, alpha: 32, targetModules: [...ALL] }, batchSize: 4, seqLen: 256, steps: 2 },
  // resources/models/dynamics-demo-2m with the demo's LoRA, batch and sequence length
  { name: 'bundled', model: { ...llama(4096, 192, 4, 4, 2), intermediate_size: 512, tie_word_embeddings: true }, adapter: { kind: 'lora', r: 8, alpha: 16, targetModules: [...ALL] }, batchSize: 8, seqLen: 64, steps: 10 },
];

export function benchWeights(c: BenchConfig): Map<string, Float32Array> {
  return initBaseWeights(parameterShapes(c.model), 1, 0.02);
}

export function benchBatch(c: BenchConfig): TokenBatch {
  const rng = new Rng(2);
  const n = c.batchSize * c.seqLen;
  const inputIds = Int32Array.from({ length: n }, () => Math.floor(rng.next() * c.model.vocab_size));
  return { batchSize: c.batchSize, seqLen: c.seqLen, inputIds, labels: inputIds.slice() };
}
