// `npm run demo:model`: writes a random-init stand-in for the bundled base model to
// resources/models/demo-random (Llama-style, the bundled tokenizer, dynamics-demo-2m's shape), for
// running resources/demo/quick.json without the pretrained model (`model.path:
// bundled:demo-random`, one line). A random model learns nothing worth reporting; the pipeline,
// its timing and the resume checks are real. The folder holds its own .gitignore: never committed.
//   --out DIR   write the folder elsewhere (tests and the soak script use a temp resources folder)
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parameterShapes } from '../src/main/engine/graphs';
import { writeSafetensors } from '../src/main/engine/hf/safetensors-write';
import type { DecoderConfig } from '../src/main/engine/models/config';
import { initBaseWeights } from '../src/main/engine/models/init';

export const DEMO_MODEL_NAME = 'demo-random';

/** The bundled tokenizer's vocabulary; the shape of the demo base model being pretrained. */
const CONFIG: DecoderConfig = {
  vocab_size: 4096, hidden_size: 192, intermediate_size: 512, num_hidden_layers: 4, num_attention_heads: 4, num_key_value_heads: 2,
  rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: true,
};

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Writes the model folder at `dir` (deterministic bytes: seed 1) and returns `dir`. */
export function writeDemoModel(dir: string, resources = path.join(repoRoot, 'resources')): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'config.json'),
    `${JSON.stringify({ architectures: ['LlamaForCausalLM'], model_type: 'llama', ...CONFIG, hidden_act: 'silu', bos_token_id: 4090, eos_token_id: 4090, max_position_embeddings: 512, torch_dtype: 'float32' }, null, 1)}\n`,
  );
  const shapes = parameterShapes(CONFIG);
  const weights = initBaseWeights(shapes, 1, 0.02);
  writeSafetensors(
    path.join(dir, 'model.safetensors'),
    shapes.map((p) => ({ name: p.name, dtype: 'F32' as const, shape: p.shape, bytes: () => new Uint8Array(weights.get(p.name)!.buffer) })),
  );
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(path.join(resources, 'tokenizer', f), path.join(dir, f));
  writeFileSync(
    path.join(dir, 'README.md'),
    '# demo-random\n\nA randomly initialized Llama-style model (written by `npm run demo:model`), standing in for the\nbundled base model until it is pretrained. Not for results: for running the pipeline.\n',
  );
  writeFileSync(path.join(dir, '.gitignore'), '*\n');
  return dir;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--out');
  const out = path.resolve(i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : path.join(repoRoot, 'resources', 'models', DEMO_MODEL_NAME));
  const existed = existsSync(path.join(out, 'model.safetensors'));
  writeDemoModel(out);
  console.log(`${existed ? 'rewrote' : 'wrote'} ${out}`);
}
