// The fixed-mixture baselines of METHOD §6: uniform and proportional target mass m, manual weights,
// and the grid m ∈ {0, 0.2, 0.5, 0.8, 1} the suite runs beside DynaMiCS.
import type { RunConfig, StrategyConfig } from '../../shared/run-config';

export const BASELINE_TARGET_MASSES: readonly number[] = [0, 0.2, 0.5, 0.8, 1.0];

/**
 * The target sources: those holding a target domain's training data — the domain's `source`, or
 * else every source with the same `dataset` as the domain.
 */
export function targetSourceIndices(config: Pick<RunConfig, 'sources' | 'domains'>): Set<number> {
  const out = new Set<number>();
  for (const d of config.domains) {
    if (d.role !== 'target') continue;
    config.sources.forEach((s, j) => {
      if (d.source !== undefined ? s.id === d.source : s.dataset === d.dataset) out.add(j);
    });
  }
  return out;
}

/**
 * m over the target group and 1 − m over the others, each group split by `share` (equal, or
 * proportional). If one group is empty its mass goes to the other [ours]: a run with no target
 * source trains on the others only, whatever m says.
 */
function splitMass(n: number, targets: ReadonlySet<number>, m: number, share: (group: number[]) => number[]): number[] {
  const inTarget = [...Array(n).keys()].filter((j) => targets.has(j));
  const others = [...Array(n).keys()].filter((j) => !targets.has(j));
  let targetMass = m;
  if (inTarget.length === 0) targetMass = 0;
  else if (others.length === 0) targetMass = 1;
  const w = new Array<number>(n).fill(0);
  const put = (group: number[], mass: number) => {
    if (group.length === 0 || mass === 0) return;
    share(group).forEach((f, k) => (w[group[k] as number] = mass * f));
  };
  put(inTarget, targetMass);
  put(others, 1 - targetMass);
  return w;
}

const equalShares = (group: number[]) => group.map(() => 1 / group.length);

export function fixedUniformWeights(n: number, targets: ReadonlySet<number>, m: number): number[] {
  return splitMass(n, targets, m, equalShares);
}

/** Target sources in proportion to `sizes` (all positive); the others equally. */
export function fixedProportionalWeights(n: number, targets: ReadonlySet<number>, sizes: readonly number[], m: number): number[] {
  return splitMass(n, targets, m, (group) => {
    if (!group.some((j) => targets.has(j))) return equalShares(group);
    const total = group.reduce((s, j) => s + (sizes[j] as number), 0);
    return group.map((j) => (sizes[j] as number) / total);
  });
}

/** Manual weights keyed by source id (missing ids get 0), normalized to sum exactly 1. */
export function fixedManualWeights(sourceIds: readonly string[], weights: Readonly<Record<string, number>>): number[] {
  const w = sourceIds.map((id) => weights[id] ?? 0);
  const sum = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / sum);
}

/**
 * The mixture of a fixed strategy, or null for the adaptive ones. `sizes` (one per source) is needed
 * by fixed-proportional: the config's sizes where given, else measured ones.
 */
export function fixedStrategyWeights(config: Pick<RunConfig, 'sources' | 'domains' | 'strategy'>, sizes?: readonly number[]): number[] | null {
  const n = config.sources.length;
  const s = config.strategy;
  switch (s.kind) {
    case 'fixed-uniform':
      return fixedUniformWeights(n, targetSourceIndices(config), s.targetMass);
    case 'fixed-proportional': {
      const known = config.sources.map((src, j) => src.size ?? sizes?.[j]);
      const missing = known.findIndex((x) => x === undefined || !(x > 0));
      if (missing >= 0) throw new Error(`fixed-proportional needs the size of source ${JSON.stringify(config.sources[missing]?.id)}`);
      return fixedProportionalWeights(n, targetSourceIndices(config), known as number[], s.targetMass);
    }
    case 'fixed-manual':
      return fixedManualWeights(
        config.sources.map((src) => src.id),
        s.weights,
      );
    case 'dynamics':
    case 'gradient-alignment':
      return null;
  }
}

/** The paper's grid of fixed baselines: uniform and proportional at every target mass (10 runs). */
export function baselineStrategies(): StrategyConfig[] {
  return [
    ...BASELINE_TARGET_MASSES.map((m) => ({ kind: 'fixed-uniform' as const, targetMass: m })),
    ...BASELINE_TARGET_MASSES.map((m) => ({ kind: 'fixed-proportional' as const, targetMass: m })),
  ];
}

export function strategyLabel(s: StrategyConfig): string {
  switch (s.kind) {
    case 'fixed-uniform':
      return `uniform m=${s.targetMass}`;
    case 'fixed-proportional':
      return `proportional m=${s.targetMass}`;
    case 'fixed-manual':
      return 'manual';
    default:
      return s.kind;
  }
}
