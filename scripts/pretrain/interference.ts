// `npx tsx scripts/pretrain/interference.ts`: what fine-tuning on one domain does to the others,
// measured on the bundled base model with the product's own runner (PreparedRun, EngineTrainer):
// from the base weights, LoRA is trained on one source alone, then every domain is evaluated; the
// trainer is restored to the base between sources. Writes interference.json into the model folder
// and regenerates its README. This is the matrix that makes constraints bind (METHOD §9): positive
// entries are interference.
//   --model DIR   the model folder (default resources/models/<recipe name>)
//   --steps N     fine-tuning steps per source (default 256)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { messageOf } from '../../src/shared/errors';
import { runConfigObjectSchema, type RunConfigInput } from '../../src/shared/run-config';
import { OrtRuntime } from '../../src/main/engine/runtime/ort-runtime';
import { FolderCheckpointStorage } from '../../src/main/runner/checkpoint-storage';
import { PreparedRun } from '../../src/main/runner/engine-setup';
import { refreshReadme } from './model-folder';
import type { InterferenceResult } from './model-readme';
import { PRETRAIN_DOMAINS, PRETRAIN_RECIPE } from './recipe';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** The demo's fine-tuning settings (LoRA on every linear layer of the blocks). */
export const FINE_TUNE = { batchSize: 8, seqLength: 64, learningRate: 1e-3, rank: 8, alpha: 16, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] };

async function main(): Promise<void> {
  const modelDir = path.resolve(arg('--model') ?? path.join(repoRoot, 'resources', 'models', PRETRAIN_RECIPE.name));
  const steps = Number(arg('--steps') ?? 256);
  const evalBatches = 16;
  const work = mkdtempSync(path.join(os.tmpdir(), 'dynamics-interference-'));
  const input: RunConfigInput = {
    name: 'interference',
    seed: 0,
    device: 'cpu',
    model: { path: modelDir, adapter: { kind: 'lora', rank: FINE_TUNE.rank, alpha: FINE_TUNE.alpha, targets: FINE_TUNE.targets } },
    sources: PRETRAIN_DOMAINS.map((d) => ({ id: d, dataset: `bundled:${d}` })),
    domains: PRETRAIN_DOMAINS.map((d) => ({ id: d, dataset: `bundled:${d}`, role: 'monitor' as const })),
    training: { steps, batchSize: FINE_TUNE.batchSize, seqLength: FINE_TUNE.seqLength, learningRate: FINE_TUNE.learningRate },
    evaluation: { regularBatches: evalBatches, probeBatches: evalBatches, testBatches: 1 },
  };
  const config = runConfigObjectSchema.parse(input);
  const started = performance.now();
  const prepared = await PreparedRun.open(config, {
    runtime: new OrtRuntime(),
    graphCacheDir: path.join(work, 'graphs'),
    // the pretraining's token cache: same corpora, same tokenizer, so nothing is tokenized twice
    tokenCacheDir: path.join(repoRoot, '.cache', 'pretrain', PRETRAIN_RECIPE.name, 'tokens'),
    resourcesDir: path.join(repoRoot, 'resources'),
    baseDir: repoRoot,
  });
  try {
    const trainer = await prepared.createTrainer(config, new FolderCheckpointStorage(path.join(work, 'checkpoints')));
    try {
      const base = (await trainer.evaluate('regular')).map((d) => d.loss);
      console.log(`base: ${base.map((x) => x.toFixed(3)).join(' ')}`);
      const snapshot = await trainer.snapshot();
      const delta: number[][] = [];
      for (let j = 0; j < PRETRAIN_DOMAINS.length; j++) {
        if (j > 0) await trainer.restore(snapshot, 'all');
        const mixture = PRETRAIN_DOMAINS.map((_, k) => (k === j ? 1 : 0));
        await trainer.train({ steps, mixture, stream: 'probe' });
        const after = (await trainer.evaluate('regular')).map((d) => d.loss);
        delta.push(after.map((x, i) => x - base[i]!));
        console.log(`${PRETRAIN_DOMAINS[j]}: ${delta[j]!.map((x, i) => `${((100 * x) / base[i]!).toFixed(1)}%`).join(' ')}`);
      }
      const result: InterferenceResult = {
        settings: { steps, batchSize: FINE_TUNE.batchSize, seqLength: FINE_TUNE.seqLength, learningRate: FINE_TUNE.learningRate, rank: FINE_TUNE.rank, alpha: FINE_TUNE.alpha, targets: FINE_TUNE.targets, evalBatches },
        domains: [...PRETRAIN_DOMAINS],
        base: base.map((x) => Number(x.toFixed(4))),
        delta: delta.map((row) => row.map((x) => Number(x.toFixed(4)))),
        relative: delta.map((row) => row.map((x, i) => Number(((100 * x) / base[i]!).toFixed(2)))),
        seconds: Math.round((performance.now() - started) / 1000),
      };
      writeFileSync(path.join(modelDir, 'interference.json'), `${JSON.stringify(result, null, 2)}\n`);
      refreshReadme(modelDir);
      console.log(`wrote ${path.join(modelDir, 'interference.json')} (${result.seconds} s)`);
    } finally {
      await trainer.close();
    }
  } finally {
    prepared.close();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`interference: ${messageOf(err)}`);
  process.exit(1);
});
