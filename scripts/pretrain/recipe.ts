// The bundled base model's pretraining recipe, in one place: the pretraining script trains from it,
// the model folder's README and pretrain.json print it, and the tests read it. Changing anything
// here changes the model: rerun `npm run pretrain` (it refuses to resume a checkpoint of another
// recipe).
import { createHash } from 'node:crypto';
import type { ModelShapeChoice } from './model-config';

/** The bundled corpora, in the order of resources/corpora/MANIFEST.json. */
export const PRETRAIN_DOMAINS = ['licenses', 'dictionary', 'email', 'code', 'api-docs', 'manpages', 'arithmetic'] as const;

export interface PretrainRecipe {
  /** Folder name under resources/models (`bundled:<name>` in run configs). */
  name: string;
  shape: ModelShapeChoice;
  seed: number;
  /** Training batch: sequences × tokens (packed windows of each corpus's train split). */
  batchSize: number;
  seqLength: number;
  steps: number;
  /** AdamW with a linear warmup and a cosine decay to `minLrRatio` of the peak. */
  learningRate: number;
  warmupSteps: number;
  minLrRatio: number;
  beta1: number;
  beta2: number;
  weightDecay: number;
  gradClip: number;
  /** Initial weights: normal with this std (Hugging Face's initializer_range), norms at one. */
  initStd: number;
  /**
   * The share of training sequences per domain. Uniform over domains: every domain gets the same
   * number of sequences whatever its size (see the model README for why not token-proportional).
   */
  mixture: Record<(typeof PRETRAIN_DOMAINS)[number], number>;
  /** Progress evaluation: every `evalEvery` steps, the first `evalBatches` batches of each eval split. */
  evalEvery: number;
  evalBatches: number;
  /** Loss lines in the log every `logEvery` steps; a checkpoint every `checkpointEvery` steps. */
  logEvery: number;
  checkpointEvery: number;
}

const uniform = 1 / PRETRAIN_DOMAINS.length;

export const PRETRAIN_RECIPE: PretrainRecipe = {
  name: 'dynamics-demo-2m',
  shape: { hidden: 192, layers: 4, heads: 4, kvHeads: 2, intermediate: 512 },
  seed: 1,
  batchSize: 8,
  seqLength: 128,
  steps: 4000,
  learningRate: 3e-3,
  warmupSteps: 200,
  minLrRatio: 0.1,
  beta1: 0.9,
  beta2: 0.95,
  weightDecay: 0.1,
  gradClip: 1,
  initStd: 0.02,
  mixture: Object.fromEntries(PRETRAIN_DOMAINS.map((d) => [d, uniform])) as PretrainRecipe['mixture'],
  evalEvery: 500,
  evalBatches: 8,
  logEvery: 10,
  checkpointEvery: 100,
};

/** Stands for everything that determines the trained weights (a checkpoint of another recipe is refused). */
export function recipeHash(r: PretrainRecipe): string {
  const { evalEvery: _e, evalBatches: _b, logEvery: _l, checkpointEvery: _c, ...training } = r;
  return createHash('sha256').update(JSON.stringify(training)).digest('hex').slice(0, 16);
}
