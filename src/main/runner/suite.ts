// The baseline suite (METHOD §6): DynaMiCS and the paper's fixed baselines (uniform and
// proportional, m ∈ {0, 0.2, 0.5, 0.8, 1}) on the same configuration and seed, side by side.
// Baselines that come out as the same mixture run once and are reported under every label.
import type { RunConfig, StrategyConfig } from '../../shared/run-config';
import { baselineStrategies, fixedStrategyWeights, strategyLabel } from '../mixture/baselines';
import type { MixtureSolver } from '../mixture/solver';
import type { RunEvent, RunReport } from './events';
import { runExperiment, type LoopOptions } from './experiment';
import type { Trainer } from './trainer';

export interface SuiteRow {
  label: string;
  strategy: StrategyConfig;
  /** The fixed mixture, or null for adaptive strategies. */
  weights: number[] | null;
  feasible: boolean;
  targetPplReduction: number;
  maxViolation: number;
  costMultiple: number;
  selectedStep: number | null;
  /** When this row reuses another row's run (the same mixture), that row's label. */
  sameRunAs: string | null;
}

export interface SuiteReport {
  rows: SuiteRow[];
  /** Among the fixed rows: the best target reduction of a feasible run (0 when none is feasible). */
  bestFixed: { label: string | null; targetPplReduction: number };
  fixedFeasible: number;
  fixedTotal: number;
  /** One report per distinct run, by label. */
  runs: Record<string, RunReport>;
}

export interface SuiteOptions extends Omit<LoopOptions, 'onEvent' | 'onState'> {
  /** Events of every run, tagged with the run's label. */
  onEvent?: (label: string, event: RunEvent) => void;
  /** Extra fixed strategies beside the paper's grid (e.g. a mixture that leaves harmful sources out). */
  extraStrategies?: StrategyConfig[];
  /** Also run DynaMiCS's own time-averaged mixture as a fixed baseline (METHOD §9's comparison). */
  timeAveragedBaseline?: boolean;
}

/** Builds a trainer for one run of the suite: a fresh copy of the base model, seeded by the config. */
export type TrainerFactory = (config: RunConfig) => Promise<Trainer>;

function rowOf(label: string, strategy: StrategyConfig, weights: number[] | null, report: RunReport, sameRunAs: string | null): SuiteRow {
  return {
    label,
    strategy,
    weights,
    feasible: report.feasible,
    targetPplReduction: report.test.targetPplReduction,
    maxViolation: report.test.maxViolation,
    costMultiple: report.cost.multiple,
    selectedStep: report.test.selectedStep,
    sameRunAs,
  };
}

const sameMixture = (a: readonly number[], b: readonly number[]) => a.every((x, j) => Math.abs(x - (b[j] as number)) <= 1e-12);

export async function runSuite(config: RunConfig, createTrainer: TrainerFactory, solver: MixtureSolver, options: SuiteOptions = {}): Promise<SuiteReport> {
  const { onEvent, extraStrategies = [], timeAveragedBaseline = false, ...loop } = options;
  const rows: SuiteRow[] = [];
  const runs: Record<string, RunReport> = {};

  const adaptive = config.strategy.kind === 'dynamics' || config.strategy.kind === 'gradient-alignment' ? config.strategy : ({ kind: 'dynamics' } as const);
  const adaptiveConfig: RunConfig = { ...config, strategy: adaptive };
  const adaptiveLabel = strategyLabel(adaptive);
  const adaptiveTrainer = await createTrainer(adaptiveConfig);
  try {
    const report = await runExperiment(adaptiveConfig, adaptiveTrainer, solver, { ...loop, onEvent: (e) => onEvent?.(adaptiveLabel, e) });
    runs[adaptiveLabel] = report;
    rows.push(rowOf(adaptiveLabel, adaptive, null, report, null));
  } finally {
    await adaptiveTrainer.close?.();
  }

  const fixed = [...baselineStrategies(), ...extraStrategies].map((strategy) => ({ label: strategyLabel(strategy), strategy }));
  const averaged = runs[adaptiveLabel]?.timeAveragedWeights;
  if (timeAveragedBaseline && averaged) {
    const weights = Object.fromEntries(config.sources.map((s, j) => [s.id, averaged[j] as number]));
    fixed.push({ label: `time-averaged ${adaptiveLabel}`, strategy: { kind: 'fixed-manual', weights } });
  }
  const done: { label: string; weights: number[]; report: RunReport }[] = [];
  for (const { strategy, label: base } of fixed) {
    let label = base;
    while (rows.some((r) => r.label === label)) label += "'";
    const runConfig: RunConfig = { ...config, strategy };
    const trainer = await createTrainer(runConfig);
    try {
      const weights = fixedStrategyWeights(runConfig, trainer.info.sourceSizes) as number[];
      const previous = done.find((d) => sameMixture(d.weights, weights));
      if (previous) {
        rows.push(rowOf(label, strategy, weights, previous.report, previous.label));
        continue;
      }
      const report = await runExperiment(runConfig, trainer, solver, { ...loop, onEvent: (e) => onEvent?.(label, e) });
      runs[label] = report;
      done.push({ label, weights, report });
      rows.push(rowOf(label, strategy, weights, report, null));
    } finally {
      await trainer.close?.();
    }
  }

  const fixedRows = rows.filter((r) => r.weights !== null);
  let bestFixed: SuiteReport['bestFixed'] = { label: null, targetPplReduction: 0 };
  for (const r of fixedRows) if (r.feasible && (bestFixed.label === null || r.targetPplReduction > bestFixed.targetPplReduction)) bestFixed = { label: r.label, targetPplReduction: r.targetPplReduction };
  return { rows, bestFixed, fixedFeasible: fixedRows.filter((r) => r.feasible).length, fixedTotal: fixedRows.length, runs };
}
