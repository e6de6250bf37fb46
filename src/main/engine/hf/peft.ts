// LoRA adapters in PEFT's folder format: adapter_config.json + adapter_model.safetensors, keys
// `base_model.model.<module>.lora_A.weight` (A [r, in]) and `.lora_B.weight` (B [out, r]), the
// adapter name ("default") left out as PEFT's save_pretrained does. Import checks the config
// against what the engine computes faithfully (plain LoRA: no DoRA, no per-layer rank or alpha
// patterns, no extra saved modules, no bias training) and every tensor against the model; export
// writes what PEFT's from_pretrained reads (fan_in_fan_out true for GPT-2's Conv1D).
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { InvalidInputError, UserError } from '../../../shared/errors';
import { parameterShapes } from '../graphs';
import type { ModelConfig } from '../models/causal-lm';
import { isGpt2Config } from '../models/gpt2';
import { isLoraParam, LORA_TARGETS, peftKey, validateAdapter, type AdapterConfig, type LoraTarget } from '../models/lora';
import { encodeFloat32, type FloatWeightDType } from './dtypes';
import { readJsonObject, resolveInside, writeTextAtomic } from './files';
import { SafetensorsFile } from './safetensors';
import { writeSafetensors } from './safetensors-write';

export const ADAPTER_CONFIG = 'adapter_config.json';
export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';
const PEFT_PREFIX = 'base_model.model.';
const MAX_ADAPTER_CONFIG = 1 << 20;

export type LoraAdapterConfig = Extract<AdapterConfig, { kind: 'lora' }>;

/** The linear modules PEFT's "all-linear" selects (every Linear/Conv1D but the output head). */
export function allLinearTargets(model: ModelConfig): LoraTarget[] {
  return isGpt2Config(model) ? ['c_attn', 'c_proj', 'c_fc'] : ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
}

/** The LoRA parameters (our names) and shapes an adapter config gives a model; refuses targets the model lacks. */
export function loraParameterShapes(model: ModelConfig, adapter: LoraAdapterConfig): { name: string; shape: number[] }[] {
  const params = parameterShapes(model, validateAdapter(adapter)).filter((p) => isLoraParam(p.name));
  const modules = new Set(params.map((p) => p.name.split('.').at(-3)!));
  const missing = adapter.targetModules.filter((t) => !modules.has(t));
  if (missing.length > 0) {
    throw new InvalidInputError(`LoRA target module${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not found in the model (its linear modules: ${allLinearTargets(model).join(', ')})`);
  }
  return params;
}

/** adapter_config.json's content -> the engine's adapter config; `where` names the file. */
export function parseAdapterConfig(raw: Record<string, unknown>, where: string, model: ModelConfig): { adapter: LoraAdapterConfig; baseModel: string | null } {
  const field = (name: string) => raw[name];
  const refuse = (why: string): never => {
    throw new InvalidInputError(`${where}: ${why}`);
  };
  const type = field('peft_type');
  if (type !== 'LORA') refuse(`peft_type ${JSON.stringify(type)} is not supported (only "LORA")`);
  const task = field('task_type');
  if (task !== undefined && task !== null && task !== 'CAUSAL_LM') refuse(`task_type ${JSON.stringify(task)} is not supported (only "CAUSAL_LM")`);
  const r = field('r');
  if (!Number.isInteger(r) || (r as number) < 1 || (r as number) > 4096) refuse(`field r must be an integer from 1 to 4096, got ${JSON.stringify(r)}`);
  const alpha = field('lora_alpha') ?? 8;
  if (typeof alpha !== 'number' || !Number.isFinite(alpha) || alpha <= 0) refuse(`field lora_alpha must be a positive number, got ${JSON.stringify(alpha)}`);
  const empty = (v: unknown) => v === undefined || v === null || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && v !== null && Object.keys(v).length === 0);
  if (field('use_dora') === true) refuse('use_dora true (DoRA) is not supported');
  if (field('lora_bias') === true) refuse('lora_bias true (a bias on lora_B) is not supported');
  if ((field('bias') ?? 'none') !== 'none') refuse(`bias ${JSON.stringify(field('bias'))} is not supported (only "none")`);
  for (const f of ['rank_pattern', 'alpha_pattern', 'modules_to_save', 'layers_to_transform', 'layer_replication']) {
    if (!empty(field(f))) refuse(`field ${f} is set (${JSON.stringify(field(f))}), which is not supported`);
  }
  let targets = field('target_modules');
  if (targets === 'all-linear') targets = allLinearTargets(model);
  if (typeof targets === 'string') refuse('target_modules as a regular expression is not supported; list the module names (e.g. ["q_proj", "v_proj"])');
  if (!Array.isArray(targets) || targets.length === 0 || !targets.every((t) => typeof t === 'string')) refuse('field target_modules must be a non-empty list of module names');
  const bad = (targets as string[]).filter((t) => !(LORA_TARGETS as readonly string[]).includes(t));
  if (bad.length > 0) refuse(`target module ${bad[0]} is not supported (supported: ${LORA_TARGETS.join(', ')})`);
  const rslora = field('use_rslora') ?? false;
  if (typeof rslora !== 'boolean') refuse('field use_rslora must be true or false');
  const adapter: LoraAdapterConfig = { kind: 'lora', r: r as number, alpha: alpha as number, targetModules: [...new Set(targets as LoraTarget[])], useRslora: rslora as boolean };
  try {
    loraParameterShapes(model, adapter);
  } catch (err) {
    if (err instanceof UserError) refuse(err.message);
    throw err;
  }
  const base = field('base_model_name_or_path');
  return { adapter, baseModel: typeof base === 'string' ? base : null };
}

export interface LoadedAdapter {
  dir: string;
  adapter: LoraAdapterConfig;
  baseModel: string | null;
  /** Our parameter name (e.g. `model.layers.0.self_attn.q_proj.lora_A.weight`) -> values. */
  tensors: Map<string, Float32Array>;
}

/** Loads a PEFT LoRA adapter folder for `model`, checking every key and shape. */
export function loadPeftAdapter(dir: string, model: ModelConfig): LoadedAdapter {
  if (!existsSync(dir)) throw new UserError(`the adapter folder ${dir} does not exist`);
  const configFile = path.join(dir, ADAPTER_CONFIG);
  if (!existsSync(configFile)) throw new UserError(`${dir} has no ${ADAPTER_CONFIG}, so it is not a PEFT adapter folder`);
  const { adapter, baseModel } = parseAdapterConfig(readJsonObject(configFile, MAX_ADAPTER_CONFIG), configFile, model);
  if (!existsSync(path.join(dir, ADAPTER_WEIGHTS))) {
    if (existsSync(path.join(dir, 'adapter_model.bin'))) throw new UserError(`${dir} holds adapter_model.bin, a pickle file, which is not loaded because unpickling can run code; save the adapter with safetensors`);
    throw new UserError(`${dir} has no ${ADAPTER_WEIGHTS}`);
  }
  const file = SafetensorsFile.open(resolveInside(dir, ADAPTER_WEIGHTS, dir));
  try {
    const expected = new Map(loraParameterShapes(model, adapter).map((p) => [peftKey(p.name), p]));
    for (const key of file.tensors.keys()) {
      if (!expected.has(key)) {
        const hint = key.startsWith(PEFT_PREFIX) ? 'the model and adapter_config.json imply no such LoRA tensor' : `PEFT keys start with "${PEFT_PREFIX}"`;
        throw new InvalidInputError(`${file.file}: unexpected tensor ${key} (${hint})`);
      }
    }
    const tensors = new Map<string, Float32Array>();
    for (const [key, p] of expected) {
      const info = file.tensors.get(key);
      if (!info) throw new InvalidInputError(`${file.file} has no tensor ${key}, which adapter_config.json implies (r ${adapter.r}, targets ${adapter.targetModules.join(', ')})`);
      if (info.shape.length !== 2 || info.shape[0] !== p.shape[0] || info.shape[1] !== p.shape[1]) {
        throw new InvalidInputError(`${file.file}: tensor ${key} has shape [${info.shape.join(', ')}] but the model and adapter_config.json imply [${p.shape.join(', ')}]`);
      }
      tensors.set(p.name, file.readFloat32(key));
    }
    return { dir, adapter, baseModel, tensors };
  } finally {
    file.close();
  }
}

/** adapter_config.json as PEFT writes it for a LoRA adapter of a causal LM. */
export function adapterConfigJson(model: ModelConfig, adapter: LoraAdapterConfig, baseModel: string | null): Record<string, unknown> {
  return {
    alpha_pattern: {},
    auto_mapping: null,
    base_model_name_or_path: baseModel,
    bias: 'none',
    fan_in_fan_out: isGpt2Config(model),
    inference_mode: true,
    init_lora_weights: true,
    layer_replication: null,
    layers_pattern: null,
    layers_to_transform: null,
    loftq_config: {},
    lora_alpha: adapter.alpha,
    lora_dropout: 0.0,
    megatron_config: null,
    megatron_core: 'megatron.core',
    modules_to_save: null,
    peft_type: 'LORA',
    r: adapter.r,
    rank_pattern: {},
    revision: null,
    target_modules: [...adapter.targetModules],
    task_type: 'CAUSAL_LM',
    use_dora: false,
    use_rslora: adapter.useRslora === true,
  };
}

export interface AdapterExport {
  model: ModelConfig;
  adapter: LoraAdapterConfig;
  /** Values by our parameter name (a training session's trainableTensors(), or a loaded adapter's). */
  tensors: ReadonlyMap<string, ArrayLike<number>> | readonly { name: string; data: ArrayLike<number> }[];
  /** Written as base_model_name_or_path. */
  baseModel?: string | null;
  /** Stored dtype (default F32). */
  dtype?: FloatWeightDType;
}

/** Writes a PEFT adapter folder (created if missing). Returns the files written. */
export function exportPeftAdapter(dir: string, ex: AdapterExport): string[] {
  const byName = new Map<string, ArrayLike<number>>(ex.tensors instanceof Map ? ex.tensors : (ex.tensors as readonly { name: string; data: ArrayLike<number> }[]).map((t) => [t.name, t.data]));
  const shapes = loraParameterShapes(ex.model, ex.adapter);
  const dtype = ex.dtype ?? 'F32';
  const tensors = shapes.map((p) => {
    const data = byName.get(p.name);
    if (!data) throw new InvalidInputError(`cannot export the adapter: no values for ${p.name}`);
    if (data.length !== p.shape[0]! * p.shape[1]!) throw new InvalidInputError(`cannot export the adapter: ${p.name} has ${data.length} values, its shape [${p.shape.join(', ')}] needs ${p.shape[0]! * p.shape[1]!}`);
    return { name: peftKey(p.name), dtype, shape: p.shape, bytes: () => encodeFloat32(data instanceof Float32Array ? data : Float32Array.from(data), dtype) };
  });
  mkdirSync(dir, { recursive: true });
  writeSafetensors(path.join(dir, ADAPTER_WEIGHTS), tensors, { format: 'pt' });
  writeTextAtomic(path.join(dir, ADAPTER_CONFIG), `${JSON.stringify(adapterConfigJson(ex.model, ex.adapter, ex.baseModel ?? null), null, 2)}\n`);
  return [ADAPTER_WEIGHTS, ADAPTER_CONFIG];
}

/**
 * Puts a loaded adapter's values into a training session's trainable views (continue training,
 * or evaluate): every LoRA tensor of the session must be in the adapter with the same size.
 */
export function assignAdapterValues(targets: readonly { name: string; data: { length: number; set(a: ArrayLike<number>): void } }[], loaded: LoadedAdapter): void {
  for (const t of targets) {
    const v = loaded.tensors.get(t.name);
    if (!v) throw new InvalidInputError(`the adapter in ${loaded.dir} has no tensor for ${t.name}; its config must match the session's (r, target modules)`);
    if (v.length !== t.data.length) throw new InvalidInputError(`the adapter in ${loaded.dir}: ${t.name} has ${v.length} values, the session expects ${t.data.length}`);
    t.data.set(v);
  }
}
