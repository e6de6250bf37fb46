// Held-out losses of a model folder on the bundled corpora: the folder is loaded through the app's
// Hugging Face loader (loadModelFolder, loadTokenizer), each domain's eval or test split is cut
// into the windows pretraining used, and an eval-only graph (forward and loss, no gradients) sums
// the token losses. The model's tests check the README's numbers with it.
import path from 'node:path';
import { EvalSet } from '../../src/main/data/eval-set';
import { TokenCache } from '../../src/main/data/token-cache';
import { loadTokenizer } from '../../src/main/data/tokenizer';
import { buildGraph } from '../../src/main/engine/graphs';
import { loadModelFolder } from '../../src/main/engine/hf/folder';
import { GraphCache } from '../../src/main/engine/onnx/graph-cache';
import type { Runtime, Tensor } from '../../src/main/engine/runtime-api';
import { resolveDatasetRef } from '../../src/main/runner/dataset-refs';

export interface HeldOutRequest {
  modelDir: string;
  resourcesDir: string;
  domains: readonly string[];
  split: 'eval' | 'test';
  /** The dataset reference of a domain (default `bundled:<domain>`). */
  datasetRef?: (domain: string) => string;
  /** Window length (the pretraining sequence length) and rows per evaluation batch. */
  seqLength: number;
  batchSize: number;
  runtime: Runtime;
  graphCacheDir: string;
  tokenCacheDir: string;
  threads?: number;
}

/** Mean token loss and token count per domain over the whole split. */
export async function heldOutLosses(req: HeldOutRequest): Promise<{ domain: string; loss: number; tokens: number }[]> {
  const model = loadModelFolder(req.modelDir);
  try {
    const tokenizer = await loadTokenizer(req.modelDir);
    const cache = new TokenCache(req.tokenCacheDir);
    const B = req.batchSize;
    const T = req.seqLength;
    const adapter = { kind: 'full' as const };
    const built = buildGraph({ kind: 'eval', model: model.config.model, adapter, batchSize: B, seqLen: T, dtype: 'float32' }, model.weights);
    const compiled = new GraphCache(req.graphCacheDir).compile(built.builder.graph, { name: 'held-out-eval', producerVersion: 'held-out-1', weightsKey: model.weightsKey });
    const session = await req.runtime.createSession(compiled.modelPath, { device: 'cpu', optimization: 'all', ...(req.threads !== undefined ? { threads: req.threads } : {}) });
    const feeds: Record<string, Tensor> = {};
    for (const p of built.trainable) feeds[p.name] = { dtype: 'float32', shape: [...p.shape], data: model.weights.read(p.name) };
    const out: { domain: string; loss: number; tokens: number }[] = [];
    try {
      for (const domain of req.domains) {
        const ref = req.datasetRef ? req.datasetRef(domain) : `bundled:${domain}`;
        const ds = await resolveDatasetRef(ref, { tokenizer, cache, baseDir: path.dirname(req.modelDir), resourcesDir: req.resourcesDir });
        try {
          const set = new EvalSet(domain, ds.sequences(req.split, T), { batchSize: B, maxBatches: 1_000_000, padId: tokenizer.padId });
          let sum = 0;
          let tokens = 0;
          for (const batch of set.batches()) {
            const r = await session.run(
              {
                ...feeds,
                input_ids: { dtype: 'int32', shape: [B, T], data: batch.inputIds },
                labels: { dtype: 'int32', shape: [B, T], data: batch.labels },
              },
              {},
              ['loss_sum', 'token_count'],
            );
            const ls = r.loss_sum as Float32Array;
            const tc = r.token_count as Float32Array;
            for (let k = 0; k < B; k++) {
              sum += ls[k]!;
              tokens += Math.round(tc[k]!);
            }
          }
          out.push({ domain, loss: sum / tokens, tokens });
        } finally {
          ds.close();
        }
      }
    } finally {
      await session.release();
    }
    return out;
  } finally {
    model.close();
  }
}
