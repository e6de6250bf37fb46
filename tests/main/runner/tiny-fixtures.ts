// Fixtures for real runs, made at test time: a tiny random-init Llama-style model as a Hugging
// Face folder (config.json, model.safetensors, the bundled BPE tokenizer), and small pre-split
// corpora cut from the bundled ones (the first documents of each split), so tokenizing is quick.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parameterShapes } from '../../../src/main/engine/graphs';
import { encodeFloat32, type FloatWeightDType } from '../../../src/main/engine/hf/dtypes';
import { writeSafetensors } from '../../../src/main/engine/hf/safetensors-write';
import type { DecoderConfig } from '../../../src/main/engine/models/config';
import { initBaseWeights } from '../../../src/main/engine/models/init';
import { resourcesDir } from '../../../src/main/paths';

/** The bundled tokenizer's vocabulary: the model's must hold every id it produces. */
const VOCAB = 4096;

export interface TinyModelOptions {
  hidden?: number;
  layers?: number;
  seed?: number;
  /** How the weights are stored (default F32). */
  dtype?: FloatWeightDType;
}

/** Writes a tiny Llama model folder at `dir` and returns `dir`. */
export function writeTinyModel(dir: string, options: TinyModelOptions = {}): string {
  const hidden = options.hidden ?? 32;
  const config: DecoderConfig = {
    vocab_size: VOCAB, hidden_size: hidden, intermediate_size: 2 * hidden, num_hidden_layers: options.layers ?? 2,
    num_attention_heads: 4, num_key_value_heads: 2, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: true,
  };
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({ architectures: ['LlamaForCausalLM'], model_type: 'llama', ...config, hidden_act: 'silu', bos_token_id: 4090, eos_token_id: 4090, max_position_embeddings: 512 }, null, 1),
  );
  const weights = initBaseWeights(parameterShapes(config), options.seed ?? 7, 0.05);
  writeSafetensors(
    path.join(dir, 'model.safetensors'),
    [...weights].map(([name, data]) => ({ name, dtype: options.dtype ?? 'F32', shape: parameterShapes(config).find((p) => p.name === name)!.shape, bytes: () => encodeFloat32(data, options.dtype ?? 'F32') })),
  );
  const tok = path.join(resourcesDir(), 'tokenizer');
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(path.join(tok, f), path.join(dir, f));
  return dir;
}

export interface TinyCorpusSizes {
  train: number;
  eval: number;
  test: number;
  /** Documents are cut to this many characters. */
  maxChars: number;
}

const DEFAULT_SIZES: TinyCorpusSizes = { train: 24, eval: 6, test: 6, maxChars: 1500 };

/** Writes `root/NAME/{train,eval,test}.jsonl` from the first documents of each bundled corpus. */
export function writeTinyCorpora(root: string, names: readonly string[], sizes: Partial<TinyCorpusSizes> = {}): string {
  const s = { ...DEFAULT_SIZES, ...sizes };
  for (const name of names) {
    const out = path.join(root, name);
    mkdirSync(out, { recursive: true });
    for (const split of ['train', 'eval', 'test'] as const) {
      const lines = readFileSync(path.join(resourcesDir(), 'corpora', name, `${split}.jsonl`), 'utf8').split('\n').filter((l) => l.length > 0);
      const docs = lines.slice(0, s[split]).map((l) => JSON.stringify({ text: (JSON.parse(l) as { text: string }).text.slice(0, s.maxChars) }));
      writeFileSync(path.join(out, `${split}.jsonl`), `${docs.join('\n')}\n`);
    }
  }
  return root;
}
