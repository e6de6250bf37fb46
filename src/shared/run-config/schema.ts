// The run configuration as a zod schema: the one object that a config file, the UI's experiment
// form and the run store all hold. Pure (no Node): the renderer validates with the same schema.
// Defaults follow METHOD.md (the paper's setting) unless marked [ours]; the "beyond the paper"
// options are on by default except backtracking (what bench:scenarios settled), and
// paperExactOptions turns every one off.
import { z } from 'zod';

/** Caps: a config file is user input, so every list and string is bounded. */
export const RUN_CONFIG_LIMITS = {
  sources: 64,
  domains: 128,
  scheduleSteps: 4096,
  stringLength: 4096,
  steps: 10_000_000,
  evalBatches: 100_000,
} as const;

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

const id = z
  .string()
  .regex(ID_PATTERN, 'must be 1 to 64 letters, digits, "_", "." or "-", starting with a letter or digit');
const text = z.string().min(1, 'must not be empty').max(RUN_CONFIG_LIMITS.stringLength);
const positiveInt = (max: number) => z.number().int().min(1).max(max);
const probability = z.number().min(0).max(1);

// ---------------------------------------------------------------- model

export const loraAdapterSchema = z.strictObject({
  kind: z.literal('lora'),
  /** LoRA rank r (the paper uses 8 to 64). */
  rank: positiveInt(4096).default(8),
  /** Scaling numerator: the update is (alpha / rank) · x A B (PEFT semantics). */
  alpha: z.number().positive().max(1e6).default(16),
  dropout: z.number().min(0).max(0.9).default(0),
  /** Linear-layer names that get an adapter (PEFT `target_modules`). */
  targets: z.array(text).min(1).max(64).default(['q_proj', 'v_proj']),
});

export const fullAdapterSchema = z.strictObject({
  /** Every parameter is trainable (small models only). */
  kind: z.literal('full'),
});

export const adapterSchema = z.discriminatedUnion('kind', [loraAdapterSchema, fullAdapterSchema]);

export const modelSchema = z.strictObject({
  /** A Hugging Face model folder, or the name of a bundled model. */
  path: text,
  adapter: adapterSchema.prefault({ kind: 'lora' }),
});

// ---------------------------------------------------------------- sources and domains

export const truncationSchema = z.enum(['left', 'right', 'drop']);
export type TruncationChoice = z.infer<typeof truncationSchema>;

export const sourceSchema = z.strictObject({
  id,
  /** A dataset reference: the id of an imported dataset, or a file path. Its train split is used. */
  dataset: text,
  /**
   * The source's size (tokens or examples, consistently across sources), used only by the
   * fixed-proportional baseline. When absent, the trainer's measured size is used.
   */
  size: z.number().positive().max(1e15).optional(),
  /**
   * What a training row does with an example longer than training.seqLength, for chats and
   * prompt/completion pairs (one example per row; plain text is packed and loses nothing): cut
   * from the left, keeping the final answer (the default), cut from the right, or dropped.
   */
  truncation: truncationSchema.optional(),
});

export const referenceSchema = z.discriminatedUnion('kind', [
  /** An absolute loss level the domain must stay at or below. */
  z.strictObject({ kind: z.literal('absolute'), loss: z.number().min(0).max(1e4) }),
  /** The base model's loss times (1 + tolerance): 0.02 allows the loss to rise by 2%. [ours] */
  z.strictObject({ kind: z.literal('relative'), tolerance: z.number().min(-0.99).max(100) }),
]);

export const domainRoleSchema = z.enum(['target', 'constraint', 'monitor']);

export const domainSchema = z.strictObject({
  id,
  /** A dataset reference (as for sources); its held-out eval and test splits are used. */
  dataset: text,
  role: domainRoleSchema,
  /**
   * Only for constraints: overrides the default reference, which is the base model's loss on this
   * domain measured at step 0.
   */
  reference: referenceSchema.optional(),
  /**
   * The source holding this domain's training data, if any. By default it is the source with the
   * same `dataset`. The fixed baselines use it to tell target sources from the others.
   */
  source: id.optional(),
});

// ---------------------------------------------------------------- training and evaluation

export const optimizerSchema = z.strictObject({
  kind: z.literal('adamw').default('adamw'),
  beta1: z.number().min(0).lt(1).default(0.9),
  beta2: z.number().min(0).lt(1).default(0.999),
  epsilon: z.number().positive().max(1).default(1e-8),
  weightDecay: z.number().min(0).max(10).default(0),
});

export const trainingSchema = z.strictObject({
  /** Length of the run in optimizer steps (the paper: 2,048). */
  steps: positiveInt(RUN_CONFIG_LIMITS.steps).default(2048),
  batchSize: positiveInt(65_536).default(8),
  seqLength: positiveInt(1_048_576).default(512),
  learningRate: z.number().positive().max(10).default(1e-4),
  /** The paper uses a constant rate with no warmup. */
  lrSchedule: z.enum(['constant', 'linear', 'cosine']).default('constant'),
  warmupSteps: z.number().int().min(0).max(RUN_CONFIG_LIMITS.steps).default(0),
  optimizer: optimizerSchema.prefault({}),
  /** Global gradient-norm clipping; null disables it. */
  gradClip: z.number().positive().max(1e6).nullable().default(1),
  /**
   * Recompute each decoder layer in the backward instead of keeping its activations (about a
   * quarter more time for a fraction of the memory); auto: where the estimated peak without it
   * would exceed half the machine's memory. [ours]
   */
  recompute: z.enum(['auto', 'on', 'off']).default('auto'),
  /**
   * Products with half-precision (bf16/f16) base weights computed in half precision with float32
   * accumulation instead of on float32 casts of the weights; auto: on CUDA. The CPU has no
   * bfloat16 products. [ours]
   */
  halfCompute: z.enum(['auto', 'on', 'off']).default('auto'),
});

export const evaluationSchema = z.strictObject({
  /** E: regular evaluation and checkpoint every E steps (and at the last step). */
  interval: positiveInt(RUN_CONFIG_LIMITS.steps).default(64),
  /** Batches per domain of the regular evaluation set. */
  regularBatches: positiveInt(RUN_CONFIG_LIMITS.evalBatches).default(200),
  /**
   * Batches per domain of the probe evaluation set: the first `probeBatches` batches of the regular
   * set, so a regular evaluation can stand in for a probe anchor. [ours]
   */
  probeBatches: positiveInt(RUN_CONFIG_LIMITS.evalBatches).default(50),
  /** Batches per domain of the test split used for the final report. */
  testBatches: positiveInt(RUN_CONFIG_LIMITS.evalBatches).default(200),
  /** Sequences per evaluation batch; defaults to the training batch size. */
  batchSize: positiveInt(65_536).optional(),
});

// ---------------------------------------------------------------- the mixture controller

export const schedulePresetSchema = z.enum(['none', 'light', 'dense']);

export const scheduleSchema = z.discriminatedUnion('kind', [
  /** METHOD §4 presets, scaled to the run length (a doubling tail ending at half the run). */
  z.strictObject({ kind: z.literal('preset'), preset: schedulePresetSchema }),
  /** An update every `every` steps. */
  z.strictObject({ kind: z.literal('interval'), every: positiveInt(RUN_CONFIG_LIMITS.steps) }),
  /** Explicit update steps: sorted, distinct, starting at 0, below training.steps. */
  z.strictObject({
    kind: z.literal('list'),
    steps: z.array(z.number().int().min(0).max(RUN_CONFIG_LIMITS.steps)).min(1).max(RUN_CONFIG_LIMITS.scheduleSteps),
  }),
]);

export const solverNameSchema = z.enum(['lp', 'penalty-grid']);

export const dynamicsSchema = z.strictObject({
  schedule: scheduleSchema.prefault({ kind: 'preset', preset: 'none' }),
  /** c_max: probes train c_t = min(H_t, c_max) steps per source. */
  probeCap: positiveInt(1_000_000).default(128),
  solver: solverNameSchema.default('lp'),
  /** ε: safety margin in loss units subtracted from every constraint's reference (LP solver). */
  margin: z.number().min(0).max(100).default(0),
});

const targetMass = probability;

export const strategySchema = z.discriminatedUnion('kind', [
  /** The DynaMiCS controller: probe, solve, hold the mixture until the next update. */
  z.strictObject({ kind: z.literal('dynamics') }),
  /** Target mass m split equally across target sources, 1 − m equally across the others. */
  z.strictObject({ kind: z.literal('fixed-uniform'), targetMass }),
  /** m split across target sources in proportion to their sizes, 1 − m equally across the others. */
  z.strictObject({ kind: z.literal('fixed-proportional'), targetMass }),
  /** Any user-given mixture, keyed by source id (missing sources get 0); must sum to 1. */
  z.strictObject({ kind: z.literal('fixed-manual'), weights: z.record(id, z.number().min(0).max(1)) }),
  /** Slopes from eval gradients and Adam directions (S_ij = −η⟨g_i, d_j⟩), fed to the same solver. */
  z.strictObject({ kind: z.literal('gradient-alignment') }),
]);

// ---------------------------------------------------------------- beyond the paper [ours]

export const beyondPaperSchema = z.strictObject({
  /**
   * A chance constraint: tighten each constraint by k standard errors of its predicted change (from
   * the calibration residuals once a domain has two, else from the probes' paired per-batch
   * differences). The anchor loss carries no noise term: references, anchors and the feasibility
   * check share the same fixed batches.
   */
  noiseAwareMargin: z
    .strictObject({ enabled: z.boolean().default(true), k: z.number().min(0).max(100).default(1) })
    .prefault({}),
  /**
   * Online calibration: each decision's predicted change per domain is compared with the change the
   * evaluation at the end of its horizon measures; later decisions scale each domain's slopes by the
   * fitted factor (shrunk toward the pooled factor and toward 1 by `prior` pseudo-observations).
   */
  calibration: z
    .strictObject({ enabled: z.boolean().default(true), prior: z.number().min(0).max(100).default(1) })
    .prefault({}),
  /**
   * When no mixture meets every constraint (LP solver): among the mixtures whose largest predicted
   * violation is within `standardErrors` standard errors of the least achievable one, the best for
   * the targets, instead of the least-violating mixture alone.
   */
  progressFallback: z
    .strictObject({ enabled: z.boolean().default(true), standardErrors: z.number().min(0).max(100).default(1) })
    .prefault({}),
  /** Smooth decisions: an exponential average of w, or an L1 trust region around the previous w. */
  smoothing: z
    .discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('none') }),
      /** w_t = decay · w_{t−1} + (1 − decay) · w*_t. */
      z.strictObject({ kind: z.literal('ema'), decay: z.number().min(0).lt(1).default(0.5) }),
      /** ‖w_t − w_{t−1}‖₁ ≤ radius inside the LP (0 < radius ≤ 2); the penalty-grid solver has no trust region. */
      z.strictObject({ kind: z.literal('trust-region'), radius: z.number().positive().max(2).default(0.5) }),
    ])
    .prefault({ kind: 'trust-region' }),
  /**
   * Directional probes: probe (1 − ε)·w + ε·e_j around the current mixture instead of each source
   * alone, all probes of a decision on shared batches (common random numbers), and recover the
   * per-source slopes of the linear model at w.
   */
  localSlopes: z
    .strictObject({ enabled: z.boolean().default(true), epsilon: z.number().gt(0).max(1).default(0.5) })
    .prefault({}),
  /**
   * When a regular evaluation shows a violated constraint, return to the last feasible checkpoint
   * (parameters, optimizer and sampler state), re-probe and re-decide.
   */
  backtracking: z
    .strictObject({ enabled: z.boolean().default(false), maxBacktracks: z.number().int().min(1).max(100).default(3) })
    .prefault({}),
});

/** The options beyond the paper, every one off: METHOD §2–4 exactly (their settings kept). */
export function paperExactOptions(bp: z.output<typeof beyondPaperSchema>): z.output<typeof beyondPaperSchema> {
  return {
    noiseAwareMargin: { ...bp.noiseAwareMargin, enabled: false },
    calibration: { ...bp.calibration, enabled: false },
    progressFallback: { ...bp.progressFallback, enabled: false },
    smoothing: { kind: 'none' },
    localSlopes: { ...bp.localSlopes, enabled: false },
    backtracking: { ...bp.backtracking, enabled: false },
  };
}

/** The controller options by the names the CLI and the benchmark use. */
export const CONTROLLER_OPTIONS = ['directional', 'trust-region', 'chance', 'calibration', 'fallback', 'backtracking'] as const;
export type ControllerOption = (typeof CONTROLLER_OPTIONS)[number];

/**
 * Exactly the named options on (at their settings in `bp`, or their defaults where `bp` has them
 * off), every other one off; no names is the paper-exact method.
 */
export function withControllerOptions(bp: z.output<typeof beyondPaperSchema>, names: readonly ControllerOption[]): z.output<typeof beyondPaperSchema> {
  const defaults = beyondPaperSchema.parse({});
  const on = new Set(names);
  const out = paperExactOptions(bp);
  if (on.has('directional')) out.localSlopes.enabled = true;
  if (on.has('trust-region')) out.smoothing = bp.smoothing.kind === 'trust-region' ? bp.smoothing : defaults.smoothing.kind === 'trust-region' ? defaults.smoothing : { kind: 'trust-region', radius: 0.5 };
  if (on.has('chance')) out.noiseAwareMargin.enabled = true;
  if (on.has('calibration')) out.calibration.enabled = true;
  if (on.has('fallback')) out.progressFallback.enabled = true;
  if (on.has('backtracking')) out.backtracking.enabled = true;
  return out;
}

// ---------------------------------------------------------------- the whole configuration

export const runConfigObjectSchema = z.strictObject({
  version: z.literal(1).default(1),
  name: z.string().max(200).default('untitled run'),
  seed: z.number().int().min(0).max(2 ** 32 - 1).default(0),
  device: z.enum(['auto', 'cuda', 'cpu']).default('auto'),
  model: modelSchema,
  sources: z.array(sourceSchema).min(1).max(RUN_CONFIG_LIMITS.sources),
  domains: z.array(domainSchema).min(1).max(RUN_CONFIG_LIMITS.domains),
  training: trainingSchema.prefault({}),
  evaluation: evaluationSchema.prefault({}),
  strategy: strategySchema.prefault({ kind: 'dynamics' }),
  dynamics: dynamicsSchema.prefault({}),
  beyondPaper: beyondPaperSchema.prefault({}),
});

export type RunConfig = z.output<typeof runConfigObjectSchema>;
/** What a user may write: every field with a default is optional. */
export type RunConfigInput = z.input<typeof runConfigObjectSchema>;
export type AdapterConfig = RunConfig['model']['adapter'];
export type SourceConfig = RunConfig['sources'][number];
export type DomainConfig = RunConfig['domains'][number];
export type DomainRole = DomainConfig['role'];
export type ReferenceOverride = NonNullable<DomainConfig['reference']>;
export type TrainingConfig = RunConfig['training'];
export type EvaluationConfig = RunConfig['evaluation'];
export type ScheduleConfig = RunConfig['dynamics']['schedule'];
export type SchedulePreset = z.output<typeof schedulePresetSchema>;
export type SolverName = z.output<typeof solverNameSchema>;
export type DynamicsConfig = RunConfig['dynamics'];
export type StrategyConfig = RunConfig['strategy'];
export type StrategyKind = StrategyConfig['kind'];
export type BeyondPaperConfig = RunConfig['beyondPaper'];
export type SmoothingConfig = BeyondPaperConfig['smoothing'];
