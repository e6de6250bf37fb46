// Compiled graphs on disk, content-addressed. A folder per set of base weights (keyed by a hash
// of their names, shapes and bytes, or by a key the caller vouches for) holds the aligned weights
// file and every model built on it, each named by a hash of its encoded ModelProto, which covers
// everything that shapes the graph: ops, shapes, dtype, constants and the weights layout. Files
// are written to a temporary name and renamed, so a crash never leaves a half-written entry.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Graph } from '../ir/graph';
import { isHalf, type DType } from '../ir/types';
import type { Device } from '../runtime-api';
import { refuseUnplacedOnCuda } from './cuda-kernels';
import { encodeModel } from './model-proto';
import { bytesOf, toModelData } from './serialize';
import { layoutWeights, writeWeightsFile } from './weights-file';

/** Bumped whenever the emission changes in a way the bytes would not show. */
const CACHE_FORMAT = 'dynamics-graph-v1';
const WEIGHTS_FILE = 'weights.bin';

export interface CompiledGraph {
  modelPath: string;
  /** Hash of the model file; equal keys mean identical graphs. */
  key: string;
  weightsKey: string;
  /** True when the model file was already on disk. */
  cached: boolean;
  /** Some base weights are stored in half precision (their casts must not be folded: SessionOptions.keepWeightCasts). */
  halfWeights: boolean;
}

interface ExternalTensor {
  name: string;
  shape: readonly number[];
  dtype: DType;
  byteLength: number;
  read(): Uint8Array;
}

function externalTensors(graph: Graph): ExternalTensor[] {
  const out: ExternalTensor[] = [];
  for (const v of graph.initializers) {
    if (v.source.kind !== 'initializer') continue;
    const init = v.source.init;
    if (init.external) out.push({ name: v.name, shape: v.shape, dtype: v.dtype, byteLength: init.byteLength, read: () => bytesOf(init.read()) });
  }
  return out;
}

/** Hash of base weights by content (about 1 s per GiB; each tensor is read once). */
export function hashWeights(tensors: readonly ExternalTensor[]): string {
  const h = createHash('sha256');
  for (const t of [...tensors].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    h.update(`${t.name}|${t.dtype}|${t.shape.join('x')}|${t.byteLength}\n`);
    h.update(t.read());
  }
  return h.digest('hex');
}

export class GraphCache {
  constructor(readonly dir: string) {}

  /**
   * Writes (or finds) the model for `graph`. `weightsKey`, when given, stands for the base
   * weights' content (e.g. a model folder's hash) and saves hashing them. `device`, where the
   * session will run: on 'cuda', a graph with nodes the CUDA provider has no kernel for is refused
   * here, naming them (ONNX Runtime's own refusal names none).
   */
  compile(graph: Graph, opts: { name: string; producerVersion: string; weightsKey?: string; device?: Device }): CompiledGraph {
    const tensors = externalTensors(graph);
    const dtypes = [...new Set(tensors.map((t) => t.dtype))].sort().join('+') || 'none';
    const weightsKey = tensors.length === 0 ? 'no-weights' : `${dtypes}-${(opts.weightsKey ? sha256(opts.weightsKey) : hashWeights(tensors)).slice(0, 24)}`;
    const folder = path.join(this.dir, weightsKey);
    const layout = layoutWeights(WEIGHTS_FILE, tensors);
    const data = toModelData(graph, {
      name: opts.name,
      producerVersion: opts.producerVersion,
      externalLocation: (name) => {
        const at = layout.entries.get(name);
        if (!at) throw new Error(`no external slot for ${name}`);
        return at;
      },
    });
    if (opts.device === 'cuda') refuseUnplacedOnCuda(data.graph, opts.name);
    mkdirSync(folder, { recursive: true });
    const weightsPath = path.join(folder, WEIGHTS_FILE);
    if (tensors.length > 0 && !existsSync(weightsPath)) {
      const tmp = `${weightsPath}.${process.pid}.tmp`;
      writeWeightsFile(tmp, layout, tensors);
      renameSync(tmp, weightsPath);
    }
    const model = encodeModel(data);
    const key = createHash('sha256').update(CACHE_FORMAT).update(model).digest('hex').slice(0, 32);
    const modelPath = path.join(folder, `${opts.name}-${key}.onnx`);
    const cached = existsSync(modelPath);
    if (!cached) {
      const tmp = `${modelPath}.${process.pid}.tmp`;
      writeFileSync(tmp, model);
      renameSync(tmp, modelPath);
    }
    return { modelPath, key, weightsKey, cached, halfWeights: tensors.some((t) => isHalf(t.dtype)) };
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
