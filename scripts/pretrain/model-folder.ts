// Writes the pretrained base model as a Hugging Face folder: config.json (LlamaForCausalLM),
// model.safetensors (float32 when it fits in about 20 MB, else bfloat16), the bundled tokenizer's
// files, generation_config.json, the pretraining log and results (pretrain-log.jsonl,
// pretrain.json) and a README generated from them. Assembled under a temporary name and renamed.
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { encodeFloat32 } from '../../src/main/engine/hf/dtypes';
import { writeSafetensors } from '../../src/main/engine/hf/safetensors-write';
import type { DecoderConfig } from '../../src/main/engine/models/config';
import { generationConfigJson, hfConfigJson, type ModelShapeChoice } from './model-config';
import { renderModelReadme, type InterferenceResult } from './model-readme';
import type { PretrainRecipe } from './recipe';

/** float32 up to this size; bfloat16 above (the repository carries the file). */
export const MAX_F32_BYTES = 20 * 1000 * 1000;

export interface HeldOutLoss {
  eval: number;
  evalTokens: number;
  test: number;
  testTokens: number;
}

/** What pretrain.json holds: the recipe, the run and the held-out losses per domain. */
export interface PretrainResult {
  recipe: PretrainRecipe;
  steps: number;
  parameters: number;
  trainSeconds: number;
  trainTokensPerDomain: Record<string, number>;
  heldOut: Record<string, HeldOutLoss>;
  machine: string;
}

export interface ModelFolderContent {
  config: DecoderConfig;
  shape: ModelShapeChoice;
  shapes: readonly { name: string; shape: number[] }[];
  weights: ReadonlyMap<string, Float32Array>;
  result: PretrainResult;
  /** The pretraining log (JSON lines). */
  log: string;
  /** Folder holding tokenizer.json and tokenizer_config.json. */
  tokenizerDir: string;
}

export function writeModelFolder(outDir: string, c: ModelFolderContent): void {
  const bytes = c.shapes.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0) * 4;
  const dtype = bytes <= MAX_F32_BYTES ? 'float32' : 'bfloat16';
  const tmp = `${outDir}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    writeSafetensors(
      path.join(tmp, 'model.safetensors'),
      c.shapes.map((p) => {
        const data = c.weights.get(p.name);
        if (!data) throw new Error(`no trained values for ${p.name}`);
        const st = dtype === 'float32' ? 'F32' : 'BF16';
        return { name: p.name, dtype: st, shape: p.shape, bytes: () => encodeFloat32(data, st) };
      }),
      { format: 'pt' },
    );
    const json = (name: string, value: unknown) => writeFileSync(path.join(tmp, name), `${JSON.stringify(value, null, 2)}\n`);
    json('config.json', hfConfigJson(c.shape, c.result.recipe.seqLength, dtype));
    json('generation_config.json', generationConfigJson());
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(path.join(c.tokenizerDir, f), path.join(tmp, f));
    json('pretrain.json', c.result);
    writeFileSync(path.join(tmp, 'pretrain-log.jsonl'), c.log);
    // interference.json (interference.ts) is measured on these weights afterwards, so it is not kept.
    writeFileSync(path.join(tmp, 'README.md'), renderModelReadme(c.result, null, dtype));
    if (existsSync(outDir)) rmSync(outDir, { recursive: true });
    renameSync(tmp, outDir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** Rewrites README.md from pretrain.json and, when present, interference.json. */
export function refreshReadme(dir: string): void {
  const result = JSON.parse(readFileSync(path.join(dir, 'pretrain.json'), 'utf8')) as PretrainResult;
  const file = path.join(dir, 'interference.json');
  const interference = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as InterferenceResult) : null;
  const config = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as { torch_dtype: 'float32' | 'bfloat16' };
  writeFileSync(path.join(dir, 'README.md'), renderModelReadme(result, interference, config.torch_dtype));
}
