// The methods the scenario benchmark compares, as transformations of a scenario's run config:
// the paper-exact DynaMiCS at each schedule preset, each "beyond the paper" option on top of it,
// combinations of options, the product's default (whatever the run-config schema's defaults are
// now), the paper's fixed grid, the fixed mixtures that leave the auxiliary sources out, and the
// static mixture equal to a DynaMiCS run's time average.
import { createHash } from 'node:crypto';
import { runConfigSchema, type BeyondPaperConfig, type RunConfig, type StrategyConfig } from '../../../src/shared/run-config';
import { baselineStrategies, fixedStrategyWeights, strategyLabel, targetSourceIndices } from '../../../src/main/mixture/baselines';
import type { MethodFamily } from './results';

export interface MethodRun {
  method: string;
  family: MethodFamily;
  config: RunConfig;
  /** Measure the noise of the evaluation sets on this run (one per cell). */
  measureNoise?: boolean;
}

/** The options beyond the paper the benchmark tries one at a time on top of the paper-exact LP. */
export const OPTIONS = ['directional', 'calibration', 'chance', 'fallback', 'ema', 'backtracking', 'big-probes'] as const;
export type OptionName = (typeof OPTIONS)[number];
/** The options of METHOD §10 the benchmark runs alone by default (the others on request). */
export const NEW_OPTIONS: readonly OptionName[] = ['directional', 'calibration', 'chance', 'fallback'];

/** Each option at the product default's setting of it (the schema's defaults). */
function applyOption(config: RunConfig, option: OptionName): RunConfig {
  const defaults = runConfigSchema.parse({ ...config, beyondPaper: undefined }).beyondPaper;
  const bp: BeyondPaperConfig = structuredClone(config.beyondPaper);
  const c: RunConfig = { ...config, dynamics: { ...config.dynamics }, evaluation: { ...config.evaluation } };
  switch (option) {
    case 'directional':
      // slopes where the run is: directional probes on shared batches, each move within a trust region
      bp.localSlopes = { enabled: true, epsilon: defaults.localSlopes.epsilon };
      bp.smoothing = defaults.smoothing.kind === 'trust-region' ? defaults.smoothing : { kind: 'trust-region', radius: 0.5 };
      break;
    case 'calibration':
      bp.calibration = { ...defaults.calibration, enabled: true };
      break;
    case 'chance':
      bp.noiseAwareMargin = { ...defaults.noiseAwareMargin, enabled: true };
      break;
    case 'fallback':
      bp.progressFallback = { ...defaults.progressFallback, enabled: true };
      break;
    case 'ema':
      bp.smoothing = { kind: 'ema', decay: 0.5 };
      break;
    case 'backtracking':
      bp.backtracking = { enabled: true, maxBacktracks: 3 };
      break;
    case 'big-probes':
      // METHOD §9's first remedy: probe evaluations on the whole regular set, probes twice as long
      c.evaluation.probeBatches = c.evaluation.regularBatches;
      c.dynamics.probeCap = 2 * c.dynamics.probeCap;
      break;
  }
  c.beyondPaper = bp;
  return c;
}

export function withOptions(config: RunConfig, options: readonly OptionName[]): RunConfig {
  return options.reduce(applyOption, config);
}

/** The scenario config with the product's current defaults for every controller option. */
export function productDefault(config: RunConfig): RunConfig {
  const { beyondPaper: _b, dynamics, ...rest } = config;
  const parsed = runConfigSchema.parse({ ...rest, dynamics: { probeCap: dynamics.probeCap } });
  return parsed;
}

export interface VariantPlan {
  /** The paper-exact method at the light and dense presets too. */
  presets: boolean;
  /** The paper's own solver (the penalty grid) beside its LP. */
  penaltyGrid: boolean;
  options: readonly OptionName[];
  /** Combinations to run, each a list of options (names joined with "+"). */
  combos: readonly (readonly OptionName[])[];
  default: boolean;
}

/** The paper-exact method: METHOD §2–4 with the given preset and solver. */
function paperExact(base: RunConfig, preset: 'none' | 'light' | 'dense', solver: 'lp' | 'penalty-grid'): RunConfig {
  return { ...base, strategy: { kind: 'dynamics' }, dynamics: { ...base.dynamics, schedule: { kind: 'preset', preset }, solver } };
}

export function dynamicsRuns(base: RunConfig, plan: VariantPlan): MethodRun[] {
  const out: MethodRun[] = [];
  if (plan.default) out.push({ method: 'default', family: 'dynamics', config: productDefault(paperExact(base, 'none', 'lp')) });
  out.push({ method: 'paper-lp', family: 'dynamics', config: paperExact(base, 'none', 'lp') });
  if (plan.penaltyGrid) out.push({ method: 'paper-grid', family: 'dynamics', config: paperExact(base, 'none', 'penalty-grid') });
  if (plan.presets) out.push({ method: 'paper-light', family: 'dynamics', config: paperExact(base, 'light', 'lp') }, { method: 'paper-dense', family: 'dynamics', config: paperExact(base, 'dense', 'lp') });
  for (const o of plan.options) out.push({ method: o, family: 'dynamics', config: withOptions(paperExact(base, 'none', 'lp'), [o]) });
  for (const combo of plan.combos) out.push({ method: combo.join('+'), family: 'dynamics', config: withOptions(paperExact(base, 'none', 'lp'), combo) });
  return out;
}

/** The paper's grid: uniform and proportional target mass m ∈ {0, 0.2, 0.5, 0.8, 1} (10 runs). */
export function gridRuns(base: RunConfig): MethodRun[] {
  return baselineStrategies().map((strategy) => ({ method: strategyLabel(strategy), family: 'grid' as const, config: { ...base, strategy } }));
}

export const LEAVE_OUT_MASSES = [0.2, 0.5, 0.8];

/**
 * The fixed mixtures that may leave sources out: target mass m over the target sources, 1 − m over
 * the non-target sources that hold some domain's data; auxiliary sources (no domain) get nothing.
 */
export function leaveOutRuns(base: RunConfig): MethodRun[] {
  const targets = targetSourceIndices(base);
  const domainData = new Set(base.domains.map((d) => d.dataset));
  const kept = base.sources.map((s, j) => !targets.has(j) && domainData.has(s.dataset));
  const others = kept.filter(Boolean).length;
  if (others === 0) return [];
  return LEAVE_OUT_MASSES.map((m) => {
    const weights: Record<string, number> = {};
    base.sources.forEach((s, j) => {
      weights[s.id] = targets.has(j) ? m / targets.size : kept[j] ? (1 - m) / others : 0;
    });
    return { method: `leave-out m=${m}`, family: 'leave-out' as const, config: { ...base, strategy: { kind: 'fixed-manual', weights } } };
  });
}

/** A static run on a DynaMiCS run's time-averaged mixture. */
export function averageRun(base: RunConfig, variant: string, weights: readonly number[]): MethodRun {
  const w: Record<string, number> = {};
  const sum = weights.reduce((a, b) => a + b, 0);
  base.sources.forEach((s, j) => (w[s.id] = (weights[j] ?? 0) / sum));
  return { method: `avg:${variant}`, family: 'average', config: { ...base, strategy: { kind: 'fixed-manual', weights: w } } };
}

/**
 * What decides a run's outcome: the config with a fixed strategy replaced by its mixture (so the
 * grid's duplicates — uniform and proportional coincide with one target — share one run).
 */
export function runIdentity(config: RunConfig, sourceSizes: readonly number[]): string {
  const weights = fixedStrategyWeights(config, sourceSizes);
  const strategy: StrategyConfig | { kind: 'fixed'; weights: number[] } = weights ? { kind: 'fixed', weights: weights.map((w) => Number(w.toPrecision(12))) } : config.strategy;
  const { name: _n, ...rest } = config;
  return createHash('sha256').update(JSON.stringify({ ...rest, strategy })).digest('hex').slice(0, 16);
}
