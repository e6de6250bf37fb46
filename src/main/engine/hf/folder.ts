// Loading a Hugging Face model folder exactly as downloaded: config.json (architecture and sizes),
// the safetensors checkpoint (single or sharded, checked against the config), the tokenizer files
// (checked), generation_config.json (sampling defaults, stop tokens). Weights stay on disk until
// the engine reads them, one tensor at a time.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { InvalidInputError, UserError } from '../../../shared/errors';
import { modelShape } from '../models/causal-lm';
import { type CheckpointWeights, checkpointKey, openCheckpoint } from './checkpoint';
import { readHfConfig, type HfModelConfig } from './config';
import { readJsonObject } from './files';
import { checkTokenizerFiles, type TokenizerSummary } from './tokenizer-files';

const MAX_GENERATION_CONFIG = 1 << 20;

/** Sampling defaults and stop tokens of generation_config.json (transformers' defaults when absent). */
export interface GenerationDefaults {
  eosTokenIds: number[];
  bosTokenId: number | null;
  padTokenId: number | null;
  doSample: boolean;
  temperature: number;
  topP: number;
  topK: number;
  maxNewTokens: number | null;
}

export interface LoadOptions {
  /** Check the tokenizer files (default true); `model forward` needs none. */
  tokenizer?: boolean;
}

export class ModelFolder {
  constructor(
    readonly dir: string,
    readonly config: HfModelConfig,
    readonly weights: CheckpointWeights,
    readonly tokenizer: TokenizerSummary | null,
    readonly generation: GenerationDefaults,
    /** Stands for the weights' content in the graph cache. */
    readonly weightsKey: string,
  ) {}

  get architecture(): string {
    return this.config.architecture;
  }

  /** Parameters of the model (as the engine counts them: tied weights once). */
  get parameterCount(): number {
    let n = 0;
    for (const name of this.weights.names()) n += this.weights.size(name)!;
    return n;
  }

  close(): void {
    this.weights.close();
  }
}

function generationDefaults(dir: string, cfg: HfModelConfig): GenerationDefaults {
  const file = path.join(dir, 'generation_config.json');
  const raw = existsSync(file) ? readJsonObject(file, MAX_GENERATION_CONFIG) : {};
  const where = (field: string) => `${file}: field ${field}`;
  const ids = (field: string, fallback: number[]): number[] => {
    const v = raw[field];
    if (v === undefined || v === null) return fallback;
    const list = Array.isArray(v) ? v : [v];
    if (list.length > 64 || !list.every((x) => Number.isInteger(x) && (x as number) >= 0)) throw new InvalidInputError(`${where(field)} must be a token id or a list of ids`);
    return list as number[];
  };
  const num = (field: string, fallback: number, ok: (x: number) => boolean, want: string): number => {
    const v = raw[field];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !ok(v)) throw new InvalidInputError(`${where(field)} must be ${want}, got ${JSON.stringify(v)}`);
    return v;
  };
  const doSample = raw.do_sample === undefined || raw.do_sample === null ? false : raw.do_sample;
  if (typeof doSample !== 'boolean') throw new InvalidInputError(`${where('do_sample')} must be true or false`);
  const maxNew = raw.max_new_tokens;
  return {
    eosTokenIds: ids('eos_token_id', cfg.eosTokenIds),
    bosTokenId: ids('bos_token_id', cfg.bosTokenIds)[0] ?? null,
    padTokenId: ids('pad_token_id', cfg.padTokenId === null ? [] : [cfg.padTokenId])[0] ?? null,
    doSample,
    temperature: num('temperature', 1, (x) => Number.isFinite(x) && x >= 0, 'a non-negative number'),
    topP: num('top_p', 1, (x) => x > 0 && x <= 1, 'a number in (0, 1]'),
    topK: num('top_k', 50, (x) => Number.isInteger(x) && x >= 0, 'a non-negative integer'),
    maxNewTokens: maxNew === undefined || maxNew === null ? null : num('max_new_tokens', 0, (x) => Number.isInteger(x) && x >= 1, 'a positive integer'),
  };
}

/**
 * Loads and checks the model folder `dir`. Refusals are UserErrors naming the file and field:
 * unsupported architecture (listing the supported ones), malformed or hostile safetensors, shard
 * paths leaving the folder, tensors missing or shaped unlike the config, malformed tokenizer files.
 */
export function loadModelFolder(dir: string, opts: LoadOptions = {}): ModelFolder {
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new UserError(`the model folder ${dir} does not exist`);
  }
  if (!st.isDirectory()) throw new UserError(`${dir} is not a folder (a model folder holds config.json and safetensors files)`);
  const configFile = path.join(dir, 'config.json');
  if (!existsSync(configFile)) throw new UserError(`${dir} has no config.json, so it is not a Hugging Face model folder`);
  const config = readHfConfig(configFile);
  const weights = openCheckpoint(dir, config.model, configFile);
  try {
    const tokenizer = opts.tokenizer === false ? null : checkTokenizerFiles(dir, modelShape(config.model).vocab);
    const generation = generationDefaults(dir, config);
    const key = checkpointKey(weights, `${config.architecture}|${JSON.stringify(config.model)}`);
    return new ModelFolder(dir, config, weights, tokenizer, generation, key);
  } catch (err) {
    weights.close();
    throw err;
  }
}
