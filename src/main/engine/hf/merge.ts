// Model folder exports: merged (the base plus the LoRA update, W + s·B·A, transposed for GPT-2's
// Conv1D whose weights are [in, out]; loadable by transformers without PEFT) and full-parameter
// (the trained weights). Weights are streamed one tensor at a time (read, merge, encode, write),
// the config is written back with the stored dtype, and the tokenizer and generation files are
// copied. The folder is assembled under a temporary name and renamed, so a failure leaves nothing
// half-written.
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../../../shared/errors';
import { isGpt2Config } from '../models/gpt2';
import { loraScaling } from '../models/lora';
import { encodeFloat32, torchDtypeName, type FloatWeightDType } from './dtypes';
import { resolveInside, stringifyLenientJson, writeTextAtomic } from './files';
import type { ModelFolder } from './folder';
import { loraParameterShapes, type LoraAdapterConfig } from './peft';
import { writeShardedSafetensors } from './safetensors-write';

/** Files transformers reads besides config and weights (copied when present). */
export const COMPANION_FILES = [
  'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'added_tokens.json',
  'vocab.json', 'merges.txt', 'tokenizer.model', 'chat_template.jinja',
] as const;

export interface MergeRequest {
  base: ModelFolder;
  adapter: LoraAdapterConfig;
  /** LoRA values by our parameter name. */
  tensors: ReadonlyMap<string, ArrayLike<number>>;
  /** Stored dtype; default: the base checkpoint's main dtype. */
  dtype?: FloatWeightDType;
  /** Shard size limit (default 5 GB, as save_pretrained). */
  maxShardBytes?: number;
}

/** W += s·B·A in place; W is [out, in] (Linear) or [in, out] (Conv1D, `transposed`). */
export function mergeLoraInto(W: Float32Array, A: ArrayLike<number>, B: ArrayLike<number>, r: number, inF: number, outF: number, s: number, transposed: boolean): void {
  const row = new Float64Array(inF);
  for (let o = 0; o < outF; o++) {
    row.fill(0);
    for (let k = 0; k < r; k++) {
      const b = B[o * r + k]! * s;
      if (b === 0) continue;
      const a0 = k * inF;
      for (let i = 0; i < inF; i++) row[i]! += b * A[a0 + i]!;
    }
    if (transposed) for (let i = 0; i < inF; i++) W[i * outF + o]! += row[i]!;
    else {
      const w0 = o * inF;
      for (let i = 0; i < inF; i++) W[w0 + i]! += row[i]!;
    }
  }
}

/** Writes the merged model folder `outDir` (which must not exist yet, or be empty). */
export function exportMergedModel(outDir: string, req: MergeRequest): string[] {
  if (existsSync(outDir) && readdirSync(outDir).length > 0) throw new UserError(`${outDir} already exists and is not empty; choose a new folder for the merged model`);
  const { base, adapter } = req;
  const model = base.config.model;
  const dtype = req.dtype ?? base.weights.mainDtype();
  const s = loraScaling(adapter);
  const conv = isGpt2Config(model);
  // module weight name -> its LoRA factors
  const lora = new Map<string, { A: ArrayLike<number>; B: ArrayLike<number>; inF: number; outF: number }>();
  const shapes = loraParameterShapes(model, adapter);
  for (const p of shapes) {
    if (!p.name.endsWith('.lora_A.weight')) continue;
    const module = p.name.slice(0, -'.lora_A.weight'.length);
    const bName = `${module}.lora_B.weight`;
    const A = req.tensors.get(p.name);
    const B = req.tensors.get(bName);
    if (!A || !B) throw new UserError(`cannot merge: the adapter has no values for ${A ? bName : p.name}`);
    const [r, inF] = p.shape as [number, number];
    const outF = shapes.find((q) => q.name === bName)!.shape[0]!;
    if (A.length !== r * inF || B.length !== outF * r) throw new UserError(`cannot merge: ${module}'s LoRA factors do not have the shapes [${r}, ${inF}] and [${outF}, ${r}]`);
    lora.set(`${module}.weight`, { A, B, inF, outF });
  }

  return writeModelFolder(outDir, base, dtype, req.maxShardBytes, (name) => {
    const w = base.weights.read(name);
    const l = lora.get(name);
    if (l) mergeLoraInto(w, l.A, l.B, adapter.r, l.inF, l.outF, s, conv);
    return w;
  });
}

export interface FullExportRequest {
  base: ModelFolder;
  /** Every parameter's trained values by name (a full-parameter session's trainableTensors()). */
  tensors: ReadonlyMap<string, ArrayLike<number>> | readonly { name: string; data: ArrayLike<number> }[];
  dtype?: FloatWeightDType;
  maxShardBytes?: number;
}

/** Writes the weights of full-parameter training as a model folder shaped like the base one. */
export function exportFullModel(outDir: string, req: FullExportRequest): string[] {
  if (existsSync(outDir) && readdirSync(outDir).length > 0) throw new UserError(`${outDir} already exists and is not empty; choose a new folder for the model`);
  const byName = new Map<string, ArrayLike<number>>(req.tensors instanceof Map ? req.tensors : (req.tensors as readonly { name: string; data: ArrayLike<number> }[]).map((t) => [t.name, t.data]));
  for (const name of req.base.weights.names()) {
    const v = byName.get(name);
    if (!v || v.length !== req.base.weights.size(name)) throw new UserError(`cannot export the model: no values of the right size for ${name}`);
  }
  return writeModelFolder(outDir, req.base, req.dtype ?? req.base.weights.mainDtype(), req.maxShardBytes, (name) => {
    const v = byName.get(name)!;
    return v instanceof Float32Array ? v : Float32Array.from(v);
  });
}

/** A model folder like `base` (config, companion files) whose weights come from `valueOf`, one at a time. */
function writeModelFolder(outDir: string, base: ModelFolder, dtype: FloatWeightDType, maxShardBytes: number | undefined, valueOf: (name: string) => Float32Array): string[] {
  const tmp = `${outDir}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    const tensors = base.weights.names().map((name) => ({ name, dtype, shape: base.weights.shape(name)!, bytes: () => encodeFloat32(valueOf(name), dtype) }));
    const written = writeShardedSafetensors(tmp, 'model', tensors, { maxShardBytes, metadata: { format: 'pt' } });
    const config = { ...base.config.raw };
    config[Object.prototype.hasOwnProperty.call(config, 'dtype') && !Object.prototype.hasOwnProperty.call(config, 'torch_dtype') ? 'dtype' : 'torch_dtype'] = torchDtypeName(dtype);
    writeTextAtomic(path.join(tmp, 'config.json'), `${stringifyLenientJson(config)}\n`);
    const copied: string[] = [];
    for (const f of COMPANION_FILES) {
      if (!existsSync(path.join(base.dir, f))) continue;
      copyFileSync(resolveInside(base.dir, f, base.dir), path.join(tmp, f));
      copied.push(f);
    }
    if (existsSync(outDir)) rmSync(outDir, { recursive: true });
    renameSync(tmp, outDir);
    return ['config.json', ...written.files, ...copied];
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}
