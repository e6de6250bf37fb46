// Dataset references of a run config: an imported dataset's name, a file (split by example key),
// a pre-split folder, bundled:NAME; and the refusals, one sentence each. Also the model-side
// refusals of PreparedRun (adapter options the engine lacks, a missing model folder).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { JsonDatasetCatalog } from '../../../src/main/data/catalog';
import { DatasetRegistry } from '../../../src/main/data/registry';
import { TokenCache } from '../../../src/main/data/token-cache';
import { loadTokenizer, type TextTokenizer } from '../../../src/main/data/tokenizer';
import { OrtRuntime } from '../../../src/main/engine/runtime/ort-runtime';
import { resourcesDir } from '../../../src/main/paths';
import { resolveDatasetRef, type DatasetRefContext } from '../../../src/main/runner/dataset-refs';
import { PreparedRun } from '../../../src/main/runner/engine-setup';
import { NotFoundError, UserError } from '../../../src/shared/errors';
import { parseRunConfig } from '../../../src/shared/run-config';
import { tempDir } from '../../helpers/temp';
import { writeJsonl, sentence } from '../data/helpers';
import { writeTinyModel } from './tiny-fixtures';

const dir = tempDir('dynamics-dataset-refs-');
let tokenizer: TextTokenizer;
let ctx: DatasetRefContext;

beforeAll(async () => {
  tokenizer = await loadTokenizer(path.join(resourcesDir(), 'tokenizer'));
  const cache = new TokenCache(path.join(dir, 'tokens'));
  const datasets = path.join(dir, 'datasets');
  // A fake resources folder with one bundled corpus, so the test does not tokenize the real ones.
  const resources = path.join(dir, 'resources');
  for (const split of ['train', 'eval', 'test']) {
    mkdirSync(path.join(resources, 'corpora', 'mini'), { recursive: true });
    writeJsonl(path.join(resources, 'corpora', 'mini', `${split}.jsonl`), Array.from({ length: 5 }, (_, i) => ({ id: `${split}${i}`, text: `${split} ${sentence(i)}` })));
  }
  ctx = { tokenizer, cache, baseDir: dir, resourcesDir: resources, registry: new DatasetRegistry(new JsonDatasetCatalog(datasets), datasets, cache) };
});

describe('dataset references', () => {
  it('a file is tokenized and split into train, eval and test', async () => {
    writeJsonl(path.join(dir, 'notes.jsonl'), Array.from({ length: 200 }, (_, i) => ({ text: sentence(i, 20) })));
    const ds = await resolveDatasetRef('notes.jsonl', ctx);
    try {
      expect(ds.description).toBe(`the file ${path.join(dir, 'notes.jsonl')}`);
      // DEFAULT_SPLIT: 5% eval, 5% test (10 examples each).
      const train = ds.tokens('train');
      const evalTokens = ds.tokens('eval');
      expect(evalTokens).toBeGreaterThan(0);
      expect(ds.tokens('test')).toBeGreaterThan(0);
      expect(train).toBeGreaterThan(8 * evalTokens);
      const seqs = ds.sequences('eval', 16);
      expect(seqs.seqLen).toBe(16);
      expect(seqs.count).toBe(Math.ceil(evalTokens / 16));
    } finally {
      ds.close();
    }
  });

  it('an imported name wins and opens the stored copy', async () => {
    writeJsonl(path.join(dir, 'src.jsonl'), Array.from({ length: 60 }, (_, i) => ({ text: sentence(1000 + i) })));
    await ctx.registry!.import(path.join(dir, 'src.jsonl'), { name: 'imported-notes' });
    const ds = await resolveDatasetRef('imported-notes', ctx);
    try {
      expect(ds.description).toBe('the imported dataset imported-notes');
      expect(ds.tokens('train') + ds.tokens('eval') + ds.tokens('test')).toBeGreaterThan(60 * 10);
    } finally {
      ds.close();
    }
  });

  it('a pre-split folder and bundled:NAME keep each file as its split', async () => {
    const ds = await resolveDatasetRef('bundled:mini', ctx);
    try {
      expect(ds.description).toBe('the bundled corpus mini');
      const ids = new Int32Array(64);
      const labels = new Int32Array(64);
      ds.sequences('test', 64).readInto(0, ids, labels, 0);
      // Every document of the split file is in the split: the test split starts with "test".
      expect(tokenizer.decode([...ids].filter((t) => t !== tokenizer.padId))).toMatch(/^test /);
    } finally {
      ds.close();
    }
    await expect(resolveDatasetRef('bundled:nothing', ctx)).rejects.toThrow(new NotFoundError('there is no bundled corpus named "nothing" (bundled: mini)'));
    mkdirSync(path.join(dir, 'half'));
    writeJsonl(path.join(dir, 'half', 'train.jsonl'), [{ text: 'a b c' }]);
    await expect(resolveDatasetRef('half', ctx)).rejects.toThrow(/^dataset "half": the folder .*half has no eval\.jsonl \(a dataset folder holds train, eval and test files\)$/);
    await expect(resolveDatasetRef('nowhere.jsonl', ctx)).rejects.toThrow(UserError);
  });
});

describe('PreparedRun refusals', () => {
  const base = {
    model: { path: 'model' },
    sources: [{ id: 'a', dataset: 'notes.jsonl' }],
    domains: [{ id: 'a', dataset: 'notes.jsonl', role: 'target' }],
    training: { seqLength: 16, batchSize: 2 },
  };
  const env = () => ({ runtime: new OrtRuntime(), graphCacheDir: path.join(dir, 'graphs'), tokenCacheDir: path.join(dir, 'tokens'), resourcesDir: resourcesDir(), baseDir: dir });

  it('names the field when the adapter asks for what the engine lacks, or the model folder is missing', async () => {
    writeTinyModel(path.join(dir, 'model'), { hidden: 16, layers: 1 });
    await expect(PreparedRun.open(parseRunConfig({ ...base, model: { path: 'model', adapter: { kind: 'lora', dropout: 0.1 } } }), env())).rejects.toThrow(
      'model.adapter.dropout must be 0: LoRA dropout is not implemented by the engine (got 0.1)',
    );
    await expect(PreparedRun.open(parseRunConfig({ ...base, model: { path: 'model', adapter: { kind: 'lora', targets: ['q_proj', 'qkv'] } } }), env())).rejects.toThrow(
      /^model\.adapter\.targets\[1\] "qkv" is not one of q_proj, /,
    );
    await expect(PreparedRun.open(parseRunConfig({ ...base, model: { path: 'no-such-model' } }), env())).rejects.toThrow(`the model folder ${path.join(dir, 'no-such-model')} does not exist`);
    writeFileSync(path.join(dir, 'empty.jsonl'), '');
    await expect(PreparedRun.open(parseRunConfig({ ...base, domains: [{ id: 'a', dataset: 'empty.jsonl', role: 'target' }] }), env())).rejects.toThrow(/^domains\[0\]\.dataset: /);
  });
});
