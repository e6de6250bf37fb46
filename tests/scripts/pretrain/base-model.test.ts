// The bundled base model (resources/models/<name>): it loads through the app's Hugging Face loader
// as the architecture and size its pretraining recorded, `bundled:<name>` resolves to it, the README
// shows the recorded held-out losses, and the shipped weights give those losses again (every
// domain's whole eval split; the test split of the two smallest domains), within float tolerance.
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadModelFolder } from '../../../src/main/engine/hf/folder';
import { OrtRuntime } from '../../../src/main/engine/runtime/ort-runtime';
import { PreparedRun } from '../../../src/main/runner/engine-setup';
import { heldOutLosses } from '../../../scripts/pretrain/held-out';
import type { PretrainResult } from '../../../scripts/pretrain/model-folder';
import { PRETRAIN_DOMAINS, PRETRAIN_RECIPE } from '../../../scripts/pretrain/recipe';
import { tempDir } from '../../helpers/temp';

const resources = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'resources');
const modelDir = path.join(resources, 'models', PRETRAIN_RECIPE.name);
const result = JSON.parse(readFileSync(path.join(modelDir, 'pretrain.json'), 'utf8')) as PretrainResult;
const work = tempDir('dynamics-base-model-');
/** float32 sums over ~35,000 tokens, in another graph than pretraining's: far below a README digit. */
const TOLERANCE = 2e-3;

describe('the bundled base model', () => {
  it('loads through the model loader as the recorded Llama model with its tokenizer', () => {
    const folder = loadModelFolder(modelDir);
    try {
      expect(folder.architecture).toBe('LlamaForCausalLM');
      expect(folder.parameterCount).toBe(result.parameters);
      expect(folder.parameterCount).toBeGreaterThan(1_000_000);
      expect(folder.tokenizer).not.toBeNull();
      expect(folder.weights.mainDtype()).toBe('F32');
      expect(folder.config.maxPositionEmbeddings).toBe(PRETRAIN_RECIPE.seqLength);
    } finally {
      folder.close();
    }
    expect(result.recipe).toEqual(PRETRAIN_RECIPE);
    expect(result.steps).toBe(PRETRAIN_RECIPE.steps);
  });

  it('is what bundled:NAME names in a run config', () => {
    expect(PreparedRun.modelDir(`bundled:${PRETRAIN_RECIPE.name}`, { resourcesDir: resources, baseDir: work })).toBe(modelDir);
  });

  it('has its recorded held-out losses in the README', () => {
    const readme = readFileSync(path.join(modelDir, 'README.md'), 'utf8');
    for (const d of PRETRAIN_DOMAINS) {
      const h = result.heldOut[d]!;
      expect(readme).toContain(`| ${d} | ${h.eval.toFixed(3)} | ${Math.exp(h.eval).toFixed(1)} | ${h.test.toFixed(3)} |`);
    }
  });

  it('gives the README\'s held-out losses again', async () => {
    // Each corpus's eval and test files in a folder of their own (its train file a copy of eval,
    // which the token cache stores once): the 6 MB of train text need not be tokenized here.
    for (const d of PRETRAIN_DOMAINS) {
      const dir = path.join(work, 'corpora', d);
      mkdirSync(dir, { recursive: true });
      for (const split of ['eval', 'test']) copyFileSync(path.join(resources, 'corpora', d, `${split}.jsonl`), path.join(dir, `${split}.jsonl`));
      copyFileSync(path.join(resources, 'corpora', d, 'eval.jsonl'), path.join(dir, 'train.jsonl'));
    }
    const common = {
      modelDir, resourcesDir: resources, seqLength: PRETRAIN_RECIPE.seqLength, batchSize: 16, runtime: new OrtRuntime(),
      graphCacheDir: path.join(work, 'graphs'), tokenCacheDir: path.join(work, 'tokens'), datasetRef: (d: string) => path.join(work, 'corpora', d),
    };
    const evalLosses = await heldOutLosses({ ...common, domains: PRETRAIN_DOMAINS, split: 'eval' });
    for (const e of evalLosses) {
      expect(e.tokens).toBe(result.heldOut[e.domain]!.evalTokens);
      expect(Math.abs(e.loss - result.heldOut[e.domain]!.eval)).toBeLessThan(TOLERANCE);
    }
    const testLosses = await heldOutLosses({ ...common, domains: ['code', 'licenses'], split: 'test' });
    for (const e of testLosses) {
      expect(e.tokens).toBe(result.heldOut[e.domain]!.testTokens);
      expect(Math.abs(e.loss - result.heldOut[e.domain]!.test)).toBeLessThan(TOLERANCE);
    }
  }, 600_000);
});
