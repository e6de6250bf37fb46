// The store rows a start creates: one run for a config, or one per strategy for the baseline suite
// (DynaMiCS, then the paper's fixed baselines, as runSuite orders them), each with the config it
// trains, its strategy's label and the launch details a later resume needs.
import { randomUUID } from 'node:crypto';
import type { RunConfig, StrategyConfig } from '../../shared/run-config';
import { baselineStrategies, strategyLabel } from '../mixture/baselines';
import type { NewRun, RunLaunch } from '../store/types';

export interface NewRunOptions {
  /** The folder the config's relative model and dataset paths resolve against. */
  baseDir: string;
  configFile?: string | null;
  suite?: boolean;
  tags?: readonly string[];
  /** The suite's key (a random one by default). */
  suiteKey?: string;
}

/** The suite's strategies in order: the adaptive one (the config's, else DynaMiCS) first. */
export function suiteStrategies(config: RunConfig): StrategyConfig[] {
  const adaptive = config.strategy.kind === 'dynamics' || config.strategy.kind === 'gradient-alignment' ? config.strategy : ({ kind: 'dynamics' } as const);
  return [adaptive, ...baselineStrategies()];
}

function rowFor(config: RunConfig, label: string, launch: RunLaunch, tags: readonly string[]): NewRun {
  return {
    name: config.name.trim() || 'untitled run',
    config,
    strategy: label,
    seed: config.seed,
    sources: config.sources.map((s) => s.id),
    domains: config.domains.map((d) => ({ id: d.id, role: d.role })),
    tags,
    totalSteps: config.training.steps,
    launch,
  };
}

export function newRunRows(config: RunConfig, options: NewRunOptions): NewRun[] {
  const base = { baseDir: options.baseDir, configFile: options.configFile ?? null };
  const tags = options.tags ?? [];
  if (!options.suite) return [rowFor(config, strategyLabel(config.strategy), { ...base, suite: null }, tags)];
  const strategies = suiteStrategies(config);
  const key = options.suiteKey ?? randomUUID();
  const labels: string[] = [];
  return strategies.map((strategy, index) => {
    let label = strategyLabel(strategy);
    while (labels.includes(label)) label += "'";
    labels.push(label);
    return rowFor({ ...config, strategy }, label, { ...base, suite: { key, index, size: strategies.length, label } }, tags);
  });
}
