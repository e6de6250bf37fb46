// The runs of one baseline suite (`dynamics run --suite`, or "also run the fixed baselines" in the
// UI) belong together: the runs table shows them under one heading, with the DynaMiCS run and the
// best feasible fixed run marked, and the outcome map links them. Pure: plain run summaries in,
// plain groups out.
import type { RunSummary } from '../../../shared/runs';

/** How a run chose its mixture: adapted by DynaMiCS, by another adaptive method, or fixed. */
export type RunKind = 'dynamics' | 'adaptive' | 'fixed';

/** A run's strategy column holds the strategy's label ("dynamics", "uniform m=0.5", "fixed-manual"…). */
export function runKind(strategy: string): RunKind {
  if (strategy === 'dynamics') return 'dynamics';
  if (strategy === 'gradient-alignment') return 'adaptive';
  return 'fixed';
}

export interface SuiteGroup {
  key: string;
  /** The experiment's name (every run of a suite has the config's name). */
  name: string;
  /** The runs shown, in the suite's order (the adaptive run first, then the baselines). */
  members: RunSummary[];
  /** Runs the suite has in all (some may be filtered out). */
  size: number;
  dynamicsId: number | null;
  /** Among the fixed runs: the feasible one with the highest target gain (the first of a tie). */
  bestFixedId: number | null;
}

export type RunsTableEntry = { kind: 'run'; run: RunSummary } | { kind: 'suite'; group: SuiteGroup };

/** The best feasible fixed run among `runs` (the first one of a tie), or null when none is feasible. */
export function bestFeasibleFixed(runs: readonly RunSummary[]): RunSummary | null {
  let best: RunSummary | null = null;
  for (const r of runs) {
    if (runKind(r.strategy) !== 'fixed' || r.feasible !== true || r.targetGain === null) continue;
    if (!best || r.targetGain > (best.targetGain ?? -Infinity)) best = r;
  }
  return best;
}

function groupOf(key: string, members: RunSummary[], listOrder: boolean): SuiteGroup {
  const sorted = listOrder ? [...members] : [...members].sort((a, b) => (a.suite?.index ?? 0) - (b.suite?.index ?? 0) || a.id - b.id);
  return {
    key,
    name: sorted[0]?.name ?? '',
    members: sorted,
    size: Math.max(sorted[0]?.suite?.size ?? sorted.length, sorted.length),
    dynamicsId: sorted.find((r) => runKind(r.strategy) === 'dynamics')?.id ?? null,
    bestFixedId: bestFeasibleFixed(sorted)?.id ?? null,
  };
}

/**
 * The table's entries in the list's order: a run on its own where it is, a suite where its first
 * run (in the list's order) is, holding every listed run of that suite — in the suite's order, or
 * with `listOrder` in the list's (the table sorted by a score sorts within each suite too).
 */
export function groupBySuite(rows: readonly RunSummary[], options: { listOrder?: boolean } = {}): RunsTableEntry[] {
  const bySuite = new Map<string, RunSummary[]>();
  for (const r of rows) {
    if (!r.suite) continue;
    const list = bySuite.get(r.suite.key);
    if (list) list.push(r);
    else bySuite.set(r.suite.key, [r]);
  }
  const out: RunsTableEntry[] = [];
  const placed = new Set<string>();
  for (const r of rows) {
    if (!r.suite) out.push({ kind: 'run', run: r });
    else if (!placed.has(r.suite.key)) {
      placed.add(r.suite.key);
      out.push({ kind: 'suite', group: groupOf(r.suite.key, bySuite.get(r.suite.key)!, options.listOrder === true) });
    }
  }
  return out;
}
