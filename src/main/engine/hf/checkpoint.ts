// The weights of a model folder: one `model.safetensors`, or shards listed by
// `model.safetensors.index.json` (whose paths may not leave the folder), checked against the
// parameters the config implies (every one present, float, with the config's shape) and served to
// the engine by name as a lazy WeightSource: each read converts one tensor to float32 and nothing
// is kept, so loading never holds the whole checkpoint, let alone two copies of it.
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { InvalidInputError, UserError } from '../../../shared/errors';
import { parameterShapes } from '../graphs';
import type { ModelConfig } from '../models/causal-lm';
import { isGpt2Config } from '../models/gpt2';
import type { HalfDType } from '../ir/types';
import type { WeightSource } from '../weights';
import { isFloatWeightDType, type FloatWeightDType } from './dtypes';
import { readJsonObject, resolveInside } from './files';
import { SafetensorsFile, type TensorInfo } from './safetensors';

export const SINGLE_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';
const MAX_INDEX_BYTES = 64 << 20;
const MAX_SHARDS = 100_000;

/** Buffers some checkpoints carry that are not parameters (recomputed by the model). */
const IGNORED_BUFFERS = [/\.rotary_emb\.inv_freq$/, /\.attn\.bias$/, /\.attn\.masked_bias$/];

interface Located {
  file: SafetensorsFile;
  info: TensorInfo;
  /** The checkpoint's own key (GPT-2 checkpoints may lack the `transformer.` prefix). */
  key: string;
}

export class CheckpointWeights implements WeightSource {
  constructor(
    private readonly byName: ReadonlyMap<string, Located>,
    readonly files: readonly SafetensorsFile[],
    /** Tensors of the checkpoint the model does not use (besides known buffers). */
    readonly unused: readonly string[],
  ) {}

  names(): string[] {
    return [...this.byName.keys()];
  }

  size(name: string): number | undefined {
    const t = this.byName.get(name);
    return t ? t.info.shape.reduce((a, d) => a * d, 1) : undefined;
  }

  shape(name: string): readonly number[] | undefined {
    return this.byName.get(name)?.info.shape;
  }

  dtype(name: string): FloatWeightDType | undefined {
    return this.byName.get(name)?.info.dtype as FloatWeightDType | undefined;
  }

  read(name: string): Float32Array {
    const t = this.byName.get(name);
    if (!t) throw new UserError(`the checkpoint has no weight named ${name}`);
    return t.file.readFloat32(t.key);
  }

  halfDtype(name: string): HalfDType | undefined {
    const d = this.dtype(name);
    return d === 'BF16' ? 'bfloat16' : d === 'F16' ? 'float16' : undefined;
  }

  readHalf(name: string): Uint16Array {
    const t = this.byName.get(name);
    if (!t) throw new UserError(`the checkpoint has no weight named ${name}`);
    return t.file.readHalf(t.key);
  }

  /** Parameters per stored dtype (e.g. { BF16: 494032768 }). */
  dtypeCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, t] of this.byName) out[t.info.dtype] = (out[t.info.dtype] ?? 0) + this.size(name)!;
    return out;
  }

  /** The dtype most parameters are stored in. */
  mainDtype(): FloatWeightDType {
    const counts = Object.entries(this.dtypeCounts()).sort((a, b) => b[1] - a[1]);
    return (counts[0]?.[0] ?? 'F32') as FloatWeightDType;
  }

  close(): void {
    for (const f of this.files) f.close();
  }
}

/** The safetensors files of a folder: the index's shards (checked), or the single file. */
function openCheckpointFiles(dir: string): { files: SafetensorsFile[]; owner: Map<string, SafetensorsFile> } {
  const indexPath = path.join(dir, INDEX_FILE);
  const owner = new Map<string, SafetensorsFile>();
  if (existsSync(indexPath)) {
    const index = readJsonObject(indexPath, MAX_INDEX_BYTES);
    const map = index.weight_map;
    if (typeof map !== 'object' || map === null || Array.isArray(map)) throw new InvalidInputError(`${indexPath}: field weight_map must be an object of tensor name -> file`);
    const byFile = new Map<string, SafetensorsFile>();
    const files: SafetensorsFile[] = [];
    try {
      for (const [name, rel] of Object.entries(map as Record<string, unknown>)) {
        if (typeof rel !== 'string') throw new InvalidInputError(`${indexPath}: weight_map[${JSON.stringify(name)}] must be a file name`);
        const real = resolveInside(dir, rel, `${indexPath}: weight_map[${JSON.stringify(name)}]`);
        let f = byFile.get(real);
        if (!f) {
          if (byFile.size >= MAX_SHARDS) throw new InvalidInputError(`${indexPath} names more than ${MAX_SHARDS} shard files`);
          f = SafetensorsFile.open(real);
          byFile.set(real, f);
          files.push(f);
        }
        if (!f.tensors.has(name)) throw new InvalidInputError(`${indexPath} places tensor ${name} in ${rel}, but ${rel} has no such tensor`);
        owner.set(name, f);
      }
    } catch (err) {
      for (const f of files) f.close();
      throw err;
    }
    if (files.length === 0) throw new InvalidInputError(`${indexPath}: weight_map is empty`);
    return { files, owner };
  }
  const single = path.join(dir, SINGLE_FILE);
  if (!existsSync(single)) {
    const pickle = ['pytorch_model.bin', 'pytorch_model.bin.index.json'].find((n) => existsSync(path.join(dir, n)));
    if (pickle) throw new UserError(`${dir} holds ${pickle}, a pickle checkpoint, which is not loaded because unpickling can run code; convert it to safetensors (model.safetensors) first`);
    throw new UserError(`${dir} has neither ${SINGLE_FILE} nor ${INDEX_FILE}`);
  }
  const f = SafetensorsFile.open(resolveInside(dir, SINGLE_FILE, dir));
  for (const name of f.tensors.keys()) owner.set(name, f);
  return { files: [f], owner };
}

/**
 * Opens the checkpoint of `dir` and checks it against `config` (`configFile` names it in
 * messages). Every parameter must exist, be stored as a float, and have the shape the config
 * implies.
 */
export function openCheckpoint(dir: string, config: ModelConfig, configFile: string): CheckpointWeights {
  const { files, owner } = openCheckpointFiles(dir);
  try {
    const byName = new Map<string, Located>();
    const used = new Set<string>();
    const gpt2 = isGpt2Config(config);
    for (const p of parameterShapes(config)) {
      let key = p.name;
      // GPT-2 checkpoints from the original release store the transformer's keys unprefixed
      if (!owner.has(key) && gpt2 && key.startsWith('transformer.')) key = key.slice('transformer.'.length);
      const file = owner.get(key);
      if (!file) {
        throw new InvalidInputError(`the checkpoint in ${dir} has no tensor ${p.name}, which ${path.basename(configFile)} implies (${owner.size} tensors checked)`);
      }
      const info = file.info(key);
      if (!isFloatWeightDType(info.dtype)) throw new InvalidInputError(`${file.file}: tensor ${key} has dtype ${info.dtype}; weights must be F32, BF16, F16 or F64`);
      if (info.shape.length !== p.shape.length || info.shape.some((d, i) => d !== p.shape[i])) {
        throw new InvalidInputError(
          `${file.file}: tensor ${key} has shape [${info.shape.join(', ')}] but ${path.basename(configFile)} implies [${p.shape.join(', ')}]`,
        );
      }
      byName.set(p.name, { file, info, key });
      used.add(key);
    }
    const tiedHead = !byName.has('lm_head.weight');
    const unused = [...owner.keys()].filter((k) => !used.has(k) && !IGNORED_BUFFERS.some((re) => re.test(k)) && !(tiedHead && k === 'lm_head.weight'));
    return new CheckpointWeights(byName, files, unused);
  } catch (err) {
    for (const f of files) f.close();
    throw err;
  }
}

/**
 * A key standing for the checkpoint's content, cheap to compute: each file's name, size,
 * modification time and header. The graph cache uses it instead of hashing gigabytes.
 */
export function checkpointKey(weights: CheckpointWeights, extra: string): string {
  const h = createHash('sha256').update(extra);
  for (const f of weights.files) {
    const st = statSync(f.file);
    h.update(`${path.basename(f.file)}|${st.size}|${st.mtimeMs}|${st.ino}|`);
    h.update(JSON.stringify([...f.tensors.values()]));
  }
  return h.digest('hex');
}
