// Checks across fields of a run configuration that a per-field schema cannot express: unique ids,
// references only on constraints, schedules inside the run, manual weights that form a mixture.
// Each problem is reported on the field it concerns.
import type { RunConfig } from './schema';

export interface ConfigProblem {
  path: (string | number)[];
  /** A fragment that follows the field's path: "must …". */
  message: string;
}

const WEIGHT_SUM_TOLERANCE = 1e-6;

function duplicates(ids: readonly string[]): Map<number, number> {
  const first = new Map<string, number>();
  const dup = new Map<number, number>();
  ids.forEach((id, i) => {
    const seen = first.get(id);
    if (seen === undefined) first.set(id, i);
    else dup.set(i, seen);
  });
  return dup;
}

export function crossFieldProblems(config: RunConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const add = (path: (string | number)[], message: string) => problems.push({ path, message });
  const sourceIds = config.sources.map((s) => s.id);
  const sourceSet = new Set(sourceIds);

  for (const [i, j] of duplicates(sourceIds)) add(['sources', i, 'id'], `repeats the id of sources[${j}] (${JSON.stringify(sourceIds[i])})`);
  const domainIds = config.domains.map((d) => d.id);
  for (const [i, j] of duplicates(domainIds)) add(['domains', i, 'id'], `repeats the id of domains[${j}] (${JSON.stringify(domainIds[i])})`);

  if (!config.domains.some((d) => d.role === 'target')) {
    add(['domains'], 'must include at least one domain with role "target" (the domains whose loss the run lowers)');
  }
  config.domains.forEach((d, i) => {
    if (d.reference && d.role !== 'constraint') {
      add(['domains', i, 'reference'], `is allowed only on a constraint domain, and ${JSON.stringify(d.id)} is a ${d.role}`);
    }
    if (d.source !== undefined && !sourceSet.has(d.source)) {
      add(['domains', i, 'source'], `names no source (${JSON.stringify(d.source)}; the sources are ${sourceIds.map((s) => JSON.stringify(s)).join(', ')})`);
    }
  });

  const { training, evaluation, dynamics, strategy } = config;
  if (training.warmupSteps > training.steps) add(['training', 'warmupSteps'], `must not exceed training.steps (${training.steps})`);
  if (evaluation.probeBatches > evaluation.regularBatches) {
    add(['evaluation', 'probeBatches'], `must not exceed evaluation.regularBatches (${evaluation.regularBatches}): the probe set is the first batches of the regular set`);
  }

  if (dynamics.schedule.kind === 'list') {
    const steps = dynamics.schedule.steps;
    if (steps[0] !== 0) add(['dynamics', 'schedule', 'steps', 0], `must be 0: the first mixture is decided before training starts (got ${String(steps[0])})`);
    for (let k = 1; k < steps.length; k++) {
      if ((steps[k] as number) <= (steps[k - 1] as number)) {
        add(['dynamics', 'schedule', 'steps', k], `must be greater than the step before it (${String(steps[k - 1])}); the list is sorted and has no repeats`);
        break;
      }
    }
    const last = steps[steps.length - 1] as number;
    if (last >= training.steps) add(['dynamics', 'schedule', 'steps', steps.length - 1], `must be below training.steps (${training.steps}), got ${last}`);
  }

  if (strategy.kind === 'fixed-manual') {
    let sum = 0;
    for (const [key, w] of Object.entries(strategy.weights)) {
      if (!sourceSet.has(key)) add(['strategy', 'weights', key], `names no source (the sources are ${sourceIds.map((s) => JSON.stringify(s)).join(', ')})`);
      sum += w;
    }
    if (Math.abs(sum - 1) > WEIGHT_SUM_TOLERANCE) add(['strategy', 'weights'], `must sum to 1 (they sum to ${Number(sum.toPrecision(6))})`);
  }

  return problems;
}
