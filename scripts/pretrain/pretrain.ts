// `npm run pretrain`: pretrains the bundled base model (resources/models/<name>) with our own engine
// in full-parameter mode on a uniform mix of the bundled corpora's train splits (recipe.ts), then
// evaluates every domain's held-out eval and test splits and writes the Hugging Face folder.
//
// Deterministic: the initial weights, the data order (the data layer's seeded mixture batcher) and
// the optimizer depend only on the recipe, so two runs on the same machine give the same weights.
// Resumable: a checkpoint (weights, AdamW moments, counters, every data stream's position) is
// written atomically every `checkpointEvery` steps under the work folder; a restart continues from
// it exactly and cuts the log back to it. Kill it at any time.
//   --work DIR   checkpoints, token cache, compiled graphs, the log (default .cache/pretrain/<name>)
//   --out DIR    the model folder to write (default resources/models/<name>)
//   --steps N    train N steps instead of the recipe's (a short trial; the folder says so)
//   --fresh      ignore an existing checkpoint and start over
//   --checkpoint-every N   checkpoint every N steps instead of the recipe's (resume checks)
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { messageOf } from '../../src/shared/errors';
import { EvalSet } from '../../src/main/data/eval-set';
import { MixtureBatcher, sourceStreams, type MixtureState } from '../../src/main/data/mixture';
import { TokenCache } from '../../src/main/data/token-cache';
import { loadTokenizer } from '../../src/main/data/tokenizer';
import { parameterShapes } from '../../src/main/engine/graphs';
import { initBaseWeights } from '../../src/main/engine/models/init';
import { OrtRuntime } from '../../src/main/engine/runtime/ort-runtime';
import { TrainingSession } from '../../src/main/engine/training-session';
import { resolveDatasetRef, type ResolvedDataset } from '../../src/main/runner/dataset-refs';
import { parseCheckpoint, writeCheckpointFile } from '../../src/main/store/checkpoint-files';
import { baseModelConfig } from './model-config';
import { writeModelFolder, type PretrainResult } from './model-folder';
import { PRETRAIN_DOMAINS, PRETRAIN_RECIPE, recipeHash, type PretrainRecipe } from './recipe';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const resources = path.join(repoRoot, 'resources');

interface Args {
  work: string;
  out: string;
  steps: number | null;
  fresh: boolean;
  checkpointEvery: number;
}

function parseArgs(argv: string[], recipe: PretrainRecipe): Args {
  const args: Args = { work: path.join(repoRoot, '.cache', 'pretrain', recipe.name), out: path.join(resources, 'models', recipe.name), steps: null, fresh: false, checkpointEvery: recipe.checkpointEvery };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--work') args.work = path.resolve(value());
    else if (a === '--out') args.out = path.resolve(value());
    else if (a === '--steps') {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1) throw new Error('--steps needs a positive integer');
      args.steps = n;
    } else if (a === '--checkpoint-every') {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1) throw new Error('--checkpoint-every needs a positive integer');
      args.checkpointEvery = n;
    } else if (a === '--fresh') args.fresh = true;
    else throw new Error(`unknown argument ${a ?? ''} (expected --work DIR, --out DIR, --steps N, --checkpoint-every N or --fresh)`);
  }
  return args;
}

/** What a checkpoint must match: the recipe, the step count, the tokenizer and the corpora. */
function identity(recipe: PretrainRecipe, steps: number, tokenizerHash: string): string {
  const manifest = readFileSync(path.join(resources, 'corpora', 'MANIFEST.json'), 'utf8');
  return JSON.stringify({ recipe: recipeHash(recipe), steps, tokenizer: tokenizerHash, corpora: createHash('sha256').update(manifest).digest('hex') });
}

interface CheckpointMeta {
  identity: string;
  step: number;
  stepsSkipped: number;
  adamStep: number;
  batcher: MixtureState;
  /** Seconds spent training before this checkpoint (over every resumed piece). */
  trainSeconds: number;
  /** Sizes of the payload's parts, in float32 elements: weights, first moments, second moments. */
  sizes: [number, number, number];
}

/** Mean loss per domain over an evaluation set (summed token losses / kept tokens). */
async function evaluate(session: TrainingSession, sets: readonly EvalSet[]): Promise<{ loss: number; tokens: number }[]> {
  const out: { loss: number; tokens: number }[] = [];
  for (const set of sets) {
    let sum = 0;
    let tokens = 0;
    for (const batch of set.batches()) {
      const r = await session.evalStep(batch);
      for (let k = 0; k < r.lossSum.length; k++) {
        sum += r.lossSum[k]!;
        tokens += r.tokenCount[k]!;
      }
    }
    out.push({ loss: sum / tokens, tokens });
  }
  return out;
}

const round = (x: number, digits = 4) => Number(x.toFixed(digits));

async function main(): Promise<void> {
  const recipe = PRETRAIN_RECIPE;
  const args = parseArgs(process.argv.slice(2), recipe);
  const steps = args.steps ?? recipe.steps;
  mkdirSync(args.work, { recursive: true });
  const logFile = path.join(args.work, 'pretrain-log.jsonl');
  const ckptFile = path.join(args.work, 'checkpoint.ckpt');
  if (args.fresh) rmSync(ckptFile, { force: true });
  const say = (msg: string) => console.log(`[pretrain] ${msg}`);

  const tokenizer = await loadTokenizer(path.join(resources, 'tokenizer'));
  const cache = new TokenCache(path.join(args.work, 'tokens'));
  const datasets: ResolvedDataset[] = [];
  for (const d of PRETRAIN_DOMAINS) {
    datasets.push(await resolveDatasetRef(`bundled:${d}`, { tokenizer, cache, baseDir: repoRoot, resourcesDir: resources, onOpen: (w) => say(`reading ${w}`) }));
  }
  const T = recipe.seqLength;
  const streams = PRETRAIN_DOMAINS.map((d, k) => sourceStreams(d, datasets[k]!.sequences('train', T), recipe.seed));
  const batcher = new MixtureBatcher(streams, { seed: recipe.seed, batchSize: recipe.batchSize, weights: recipe.mixture });
  const evalSets = (split: 'eval' | 'test', maxBatches: number) =>
    PRETRAIN_DOMAINS.map((d, k) => new EvalSet(d, datasets[k]!.sequences(split, T), { batchSize: recipe.batchSize, maxBatches, padId: tokenizer.padId }));
  const progressSets = evalSets('eval', recipe.evalBatches);

  const config = baseModelConfig(recipe.shape);
  const shapes = parameterShapes(config);
  const session = await TrainingSession.create({
    runtime: new OrtRuntime(),
    cacheDir: path.join(args.work, 'graphs'),
    model: config,
    baseWeights: initBaseWeights(shapes, recipe.seed, recipe.initStd),
    adapter: { kind: 'full' },
    batchSize: recipe.batchSize,
    seqLen: T,
    device: 'cpu',
    optimizer: { beta1: recipe.beta1, beta2: recipe.beta2, eps: 1e-8, weightDecay: recipe.weightDecay },
    schedule: { kind: 'cosine', lr: recipe.learningRate, warmupSteps: Math.min(recipe.warmupSteps, Math.floor(steps / 10)), totalSteps: steps, minLrRatio: recipe.minLrRatio },
    maxGradNorm: recipe.gradClip,
    seed: recipe.seed,
  });
  const id = identity(recipe, steps, tokenizer.hash);
  let step = 0;
  let trainSeconds = 0;
  try {
    if (existsSync(ckptFile)) {
      const ck = parseCheckpoint(ckptFile, readFileSync(ckptFile));
      const meta = ck.header.meta as CheckpointMeta;
      if (meta.identity !== id) throw new Error(`${ckptFile} belongs to another recipe, step count or data; pass --fresh to start over`);
      const all = new Float32Array(ck.payload.buffer.slice(ck.payload.byteOffset, ck.payload.byteOffset + ck.payload.byteLength));
      const [nw, nm] = meta.sizes;
      session.setTrainable(all.subarray(0, nw));
      session.setOptimizerState({ adam: { step: meta.adamStep, m: all.slice(nw, nw + nm), v: all.slice(nw + nm) }, stepsTaken: meta.step, stepsSkipped: meta.stepsSkipped });
      batcher.restore(meta.batcher);
      step = meta.step;
      trainSeconds = meta.trainSeconds;
      // The log keeps only what happened up to the checkpoint: the resumed run rewrites the rest.
      if (existsSync(logFile)) {
        const kept = readFileSync(logFile, 'utf8').split('\n').filter((l) => l.length > 0 && (JSON.parse(l) as { step: number }).step <= step);
        writeFileSync(logFile, kept.map((l) => `${l}\n`).join(''));
      }
      say(`resumed from the checkpoint at step ${step}`);
    } else {
      writeFileSync(logFile, '');
    }
    const params = session.trainable.length;
    say(`${params.toLocaleString('en-US')} parameters, ${steps} steps of ${recipe.batchSize} × ${T} tokens, ${os.cpus().length} CPUs`);
    const log = (entry: Record<string, unknown>) => appendFileSync(logFile, `${JSON.stringify(entry)}\n`);

    const saveCheckpoint = () => {
      const opt = session.getOptimizerState();
      const m = opt.adam.m as Float32Array;
      const v = opt.adam.v as Float32Array;
      const w = session.trainable as Float32Array;
      const meta: CheckpointMeta = { identity: id, step, stepsSkipped: opt.stepsSkipped, adamStep: opt.adam.step, batcher: batcher.state(), trainSeconds, sizes: [w.length, m.length, v.length] };
      const bytes = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
      writeCheckpointFile(ckptFile, { header: { runId: 0, step, createdAt: Date.now(), meta }, payload: [bytes(w), bytes(m), bytes(v)] });
    };

    let windowLoss = 0;
    let windowSteps = 0;
    let windowStart = performance.now();
    let windowTokens = 0;
    if (step === 0) {
      const ev = await evaluate(session, progressSets);
      log({ step: 0, eval: Object.fromEntries(PRETRAIN_DOMAINS.map((d, k) => [d, round(ev[k]!.loss)])) });
    }
    while (step < steps) {
      const t0 = performance.now();
      const r = await session.trainStep(batcher.next());
      trainSeconds += (performance.now() - t0) / 1000;
      step++;
      if (r.skipped) log({ step, skipped: r.skipReason });
      else {
        windowLoss += r.loss;
        windowSteps++;
      }
      windowTokens += r.tokens;
      if (step % recipe.logEvery === 0 || step === steps) {
        const secs = (performance.now() - windowStart) / 1000;
        log({ step, loss: round(windowLoss / Math.max(1, windowSteps)), lr: Number(r.lr.toPrecision(4)), gradNorm: round(r.gradNorm, 3), tokensPerSecond: Math.round(windowTokens / secs), trainSeconds: round(trainSeconds, 1) });
        say(`step ${step}/${steps} loss ${(windowLoss / Math.max(1, windowSteps)).toFixed(3)} lr ${r.lr.toExponential(2)} ${Math.round(windowTokens / secs)} tok/s`);
        windowLoss = 0;
        windowSteps = 0;
        windowTokens = 0;
        windowStart = performance.now();
      }
      if (step % recipe.evalEvery === 0 || step === steps) {
        const ev = await evaluate(session, progressSets);
        log({ step, eval: Object.fromEntries(PRETRAIN_DOMAINS.map((d, k) => [d, round(ev[k]!.loss)])) });
        say(`eval at ${step}: ${ev.map((e, k) => `${PRETRAIN_DOMAINS[k]} ${e.loss.toFixed(3)}`).join(', ')}`);
      }
      if (step % args.checkpointEvery === 0 || step === steps) saveCheckpoint();
    }

    say('evaluating the held-out eval and test splits');
    const full = 1_000_000;
    const evalLosses = await evaluate(session, evalSets('eval', full));
    const testLosses = await evaluate(session, evalSets('test', full));
    const trainTokens = PRETRAIN_DOMAINS.map((_, k) => datasets[k]!.tokens('train'));
    const result: PretrainResult = {
      recipe,
      steps,
      parameters: params,
      trainSeconds: round(trainSeconds, 1),
      trainTokensPerDomain: Object.fromEntries(PRETRAIN_DOMAINS.map((d, k) => [d, trainTokens[k]!])),
      heldOut: Object.fromEntries(
        PRETRAIN_DOMAINS.map((d, k) => [d, { eval: round(evalLosses[k]!.loss), evalTokens: evalLosses[k]!.tokens, test: round(testLosses[k]!.loss), testTokens: testLosses[k]!.tokens }]),
      ),
      machine: `${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'CPU'}`,
    };
    const weights = new Map(session.trainableTensors().map((t) => [t.name, t.data as Float32Array]));
    writeModelFolder(args.out, { config, shape: recipe.shape, shapes, weights, result, log: readFileSync(logFile, 'utf8'), tokenizerDir: path.join(resources, 'tokenizer') });
    say(`wrote ${args.out}`);
  } finally {
    await session.release();
    for (const ds of datasets) ds.close();
  }
}

main().catch((err: unknown) => {
  console.error(`pretrain: ${messageOf(err)}`);
  process.exit(1);
});
