// The scenario benchmark's aggregation (pure): per (scenario, seed) cell, the value of every
// method — a DynaMiCS variant's run; the paper's fixed grid as best@k (the median over the grid's
// k-subsets of their best run on test: best@1 is the median run, best@10 the best one, both oracles);
// the eval-selected best@10 (the grid run with the best eval result, reported on test: what a user
// would keep); the best fixed mixture that may leave sources out (grid plus the leave-out family);
// the static mixture equal to a DynaMiCS run's time average — then, over cells, the median target
// perplexity reduction, the feasible share, the median cost multiple (compute, and wall clock
// against the cell's median fixed run), and paired differences against best@10 with bootstrap
// intervals.
import type { RunRecord } from './results';

export interface MethodSummary {
  method: string;
  /** Cells that had this method's runs. */
  cells: number;
  medianReduction: number;
  /** Share of feasible outcomes: runs for best@1, cells with a feasible pick otherwise. */
  feasibleRate: number;
  /** In runs of the fixed-run length: a DynaMiCS run's own multiple; 1 for one fixed run; 10 for best@10. */
  medianCost: number;
  /** The same in wall-clock time, against the cell's median fixed run. */
  medianWallCost: number;
  /** Share of the cells where this method's reduction beats best@10's (strictly). */
  beatsBest10: number;
  /** DynaMiCS variants: share of the cells where it beats the static run on its own time-averaged mixture. */
  beatsOwnAverage: number;
}

export interface Cell {
  scenario: string;
  seed: number;
  runs: RunRecord[];
}

export const median = (xs: readonly number[]): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export function cellsOf(records: readonly RunRecord[]): Cell[] {
  const map = new Map<string, Cell>();
  for (const r of records) {
    const k = `${r.scenario}\u0000${r.seed}`;
    let c = map.get(k);
    if (!c) map.set(k, (c = { scenario: r.scenario, seed: r.seed, runs: [] }));
    c.runs.push(r);
  }
  return [...map.values()].sort((a, b) => (a.scenario === b.scenario ? a.seed - b.seed : a.scenario < b.scenario ? -1 : 1));
}

/** One method's outcome in one cell: reduction, feasibility (0..1) and cost; null when it did not run there. */
export interface CellValue {
  reduction: number;
  feasible: number;
  cost: number;
  /** Wall time as a multiple of the cell's median fixed run (NaN when unknown). */
  wallCost: number;
}

/** Every k-subset of 0..n−1 (n is small: the grid's 10 runs). */
function subsets(n: number, k: number): number[][] {
  const out: number[][] = [];
  const pick = (start: number, acc: number[]) => {
    if (acc.length === k) return void out.push([...acc]);
    for (let i = start; i < n; i++) pick(i + 1, [...acc, i]);
  };
  pick(0, []);
  return out;
}

/** best@k: the median over the grid's k-subsets of the best reduction in the subset (feasible: the share of subsets with a feasible run). */
function bestOf(grid: readonly RunRecord[], k: number): { reduction: number; feasible: number } {
  const all = subsets(grid.length, k);
  return {
    reduction: median(all.map((sub) => Math.max(...sub.map((i) => grid[i]!.targetPplReduction)))),
    feasible: all.filter((sub) => sub.some((i) => grid[i]!.feasible)).length / all.length,
  };
}

/** The cell's median wall time of one fixed run (the unit of the wall-clock cost). */
function fixedWall(cell: Cell): number {
  return median(cell.runs.filter((r) => r.family !== 'dynamics' && r.wallSeconds > 0).map((r) => r.wallSeconds));
}

/** The paper's grid has 10 runs per cell; a cell is complete for best@k only with all of them. */
export const GRID_SIZE = 10;

export function methodValue(cell: Cell, method: string): CellValue | null {
  const grid = cell.runs.filter((r) => r.family === 'grid');
  const gridComplete = grid.length >= GRID_SIZE;
  const unit = fixedWall(cell);
  const best = /^best@(\d+)$/.exec(method);
  if (best) {
    const k = Number(best[1]);
    if (!gridComplete || k > grid.length) return null;
    const b = bestOf(grid, k);
    return { ...b, cost: k, wallCost: k };
  }
  if (method === 'eval-selected best@10') {
    if (!gridComplete || grid.some((r) => r.evalReduction === undefined)) return null;
    // A feasible run before any infeasible one, then the best eval result (ties: the first in grid order).
    const pick = grid.reduce((a, b) => (Number(b.feasible) > Number(a.feasible) || (b.feasible === a.feasible && b.evalReduction! > a.evalReduction!) ? b : a));
    return { reduction: pick.targetPplReduction, feasible: pick.feasible ? 1 : 0, cost: grid.length, wallCost: grid.length };
  }
  if (method === 'best fixed (may leave out)') {
    const leave = cell.runs.filter((r) => r.family === 'leave-out');
    if (!gridComplete || leave.length === 0) return null;
    const all = [...grid, ...leave];
    return { reduction: Math.max(...all.map((r) => r.targetPplReduction)), feasible: all.some((r) => r.feasible) ? 1 : 0, cost: all.length, wallCost: all.length };
  }
  const run = cell.runs.find((r) => r.method === method);
  if (!run) return null;
  // A run recorded as the same as another (wallSeconds 0) took that one's time.
  const wall = run.wallSeconds > 0 ? run.wallSeconds : (cell.runs.find((r) => r.configHash === run.configHash && r.wallSeconds > 0)?.wallSeconds ?? NaN);
  return { reduction: run.targetPplReduction, feasible: run.feasible ? 1 : 0, cost: run.family === 'dynamics' ? run.costMultiple : 1, wallCost: wall / unit };
}

/** Methods in report order: DynaMiCS variants as first seen, the fixed comparisons, then averages. */
export function methodsOf(records: readonly RunRecord[]): string[] {
  const dyn: string[] = [];
  const avg: string[] = [];
  for (const r of records) {
    if (r.family === 'dynamics' && !dyn.includes(r.method)) dyn.push(r.method);
    if (r.family === 'average' && !avg.includes(r.method)) avg.push(r.method);
  }
  const leaveOut = records.some((r) => r.family === 'leave-out') ? ['best fixed (may leave out)'] : [];
  return [...dyn, 'best@1', 'best@3', 'best@10', 'eval-selected best@10', ...leaveOut, ...avg];
}

/**
 * Over the complete cells (those whose fixed grid is complete, so every method compares on the same
 * cells): per method, the median reduction, feasible share, costs, and in how many cells it beat
 * best@10 and (DynaMiCS variants) the static run on its own time-averaged mixture.
 */
export function summarize(records: readonly RunRecord[]): MethodSummary[] {
  const cells = cellsOf(records).filter((c) => methodValue(c, 'best@10') !== null);
  return methodsOf(records).map((method) => {
    const values: CellValue[] = [];
    let beats = 0;
    let beatsAverage = 0;
    let averaged = 0;
    for (const cell of cells) {
      const v = methodValue(cell, method);
      if (!v) continue;
      values.push(v);
      if (v.reduction > methodValue(cell, 'best@10')!.reduction) beats++;
      const avg = methodValue(cell, `avg:${method}`);
      if (avg) {
        averaged++;
        if (v.reduction > avg.reduction) beatsAverage++;
      }
    }
    const feasibleRate = values.length === 0 ? NaN : values.reduce((s, v) => s + v.feasible, 0) / values.length;
    return {
      method,
      cells: values.length,
      medianReduction: median(values.map((v) => v.reduction)),
      feasibleRate,
      medianCost: median(values.map((v) => v.cost)),
      medianWallCost: median(values.map((v) => v.wallCost).filter(Number.isFinite)),
      beatsBest10: values.length === 0 ? NaN : beats / values.length,
      beatsOwnAverage: averaged === 0 ? NaN : beatsAverage / averaged,
    };
  });
}

const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : '-');

/** The summary as a Markdown-style table. */
export function summaryTable(rows: readonly MethodSummary[]): string[] {
  const head = ['method', 'cells', 'median target ppl reduction', 'feasible', 'median cost ×', 'median wall ×', 'beats best@10 in', 'beats its own average in'];
  const fixed2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '-');
  const body = rows.map((r) => [r.method, String(r.cells), pct(r.medianReduction), pct(r.feasibleRate), fixed2(r.medianCost), fixed2(r.medianWallCost), pct(r.beatsBest10), pct(r.beatsOwnAverage)]);
  return markdownTable(head, body);
}

function markdownTable(head: string[], body: string[][]): string[] {
  const widths = head.map((h, k) => Math.max(h.length, ...body.map((row) => row[k]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, k) => (k === 0 ? c.padEnd(widths[k]!) : c.padStart(widths[k]!))).join(' | ')} |`;
  return [line(head), `|${widths.map((w, k) => (k === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...body.map(line)];
}

/** A seeded generator for the bootstrap (mulberry32), so the report is the same on every print. */
function uniforms(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The 5th and 95th percentiles of the median over cells, resampling cells with replacement. */
export function bootstrapMedianInterval(values: readonly number[], rounds = 2000, seed = 1): [number, number] {
  if (values.length === 0) return [NaN, NaN];
  const next = uniforms(seed);
  const medians = Array.from({ length: rounds }, () => median(Array.from({ length: values.length }, () => values[Math.floor(next() * values.length)]!)));
  medians.sort((a, b) => a - b);
  return [medians[Math.floor(0.05 * (rounds - 1))]!, medians[Math.ceil(0.95 * (rounds - 1))]!];
}

/** Per method: the median over cells of (its reduction − best@10's), with a bootstrap interval, and in how many cells it was ahead. */
export function pairedTable(records: readonly RunRecord[]): string[] {
  const cells = cellsOf(records);
  const pp = (x: number) => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}` : '-');
  const body = methodsOf(records)
    .filter((m) => m !== 'best@10')
    .flatMap((method) => {
      const diffs: number[] = [];
      for (const cell of cells) {
        const v = methodValue(cell, method);
        const b = methodValue(cell, 'best@10');
        if (v && b) diffs.push(v.reduction - b.reduction);
      }
      if (diffs.length === 0) return [];
      const [lo, hi] = bootstrapMedianInterval(diffs);
      return [[method, String(diffs.length), pp(median(diffs)), `[${pp(lo)}, ${pp(hi)}]`, `${diffs.filter((d) => d > 0).length} / ${diffs.filter((d) => d < 0).length}`]];
    });
  return markdownTable(['method', 'cells', 'median difference (pp)', '90% interval', 'cells ahead / behind'], body);
}

/** Per scenario: the largest change standard error over domains, a quarter of the smallest tolerance, and the largest level standard error. */
export function noiseTable(records: readonly RunRecord[]): string[] {
  const seen = new Set<string>();
  const body: string[][] = [];
  for (const r of records) {
    if (!r.noise || seen.has(r.scenario)) continue;
    seen.add(r.scenario);
    const tolerances = r.noise.tolerances.filter((t): t is number => t !== null);
    const quarter = tolerances.length > 0 ? Math.min(...tolerances) / 4 : NaN;
    const change = Math.max(...r.noise.changeStdErrors);
    const worst = r.noise.domains[r.noise.changeStdErrors.indexOf(change)]!;
    body.push([r.scenario, `${change.toFixed(4)} (${worst})`, Number.isFinite(quarter) ? quarter.toFixed(4) : '-', change <= quarter ? 'yes' : 'no', Math.max(...r.noise.levelStdErrors).toFixed(4)]);
  }
  return markdownTable(['scenario', 'largest change s.e. (nats)', 'tolerance / 4', 'met', 'largest level s.e.'], body);
}

/** Per cell: every method's reduction (feasible ones marked), for the detailed report. */
export function cellTable(records: readonly RunRecord[]): string[] {
  const methods = methodsOf(records);
  const cells = cellsOf(records);
  const head = ['scenario', 'seed', ...methods];
  const body = cells.map((c) => [
    c.scenario,
    String(c.seed),
    ...methods.map((m) => {
      const v = methodValue(c, m);
      if (!v) return '';
      const mark = m === 'best@1' ? ` (${Math.round(v.feasible * 100)}%)` : v.feasible > 0 ? '' : ' ✗';
      return `${pct(v.reduction)}${mark}`;
    }),
  ]);
  const widths = head.map((h, k) => Math.max(h.length, ...body.map((row) => row[k]!.length)));
  const line = (cells: string[]) => `| ${cells.map((x, k) => x.padEnd(widths[k]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)];
}

/**
 * Per DynaMiCS method: the calibration of its predictions — per domain, the least-squares slope of
 * measured against predicted (uncalibrated) change over each decision's horizon (1: the right size;
 * 0.5: twice too large; negative: the wrong sign) — as the median and the quartiles over every
 * (cell, domain), for targets and constraints apart. `roleOf` maps a scenario and a domain to its role.
 */
export function calibrationTable(records: readonly RunRecord[], roleOf: (scenario: string, domain: string) => string | undefined): string[] {
  const quantile = (xs: number[], q: number) => {
    const s = [...xs].sort((a, b) => a - b);
    const pos = q * (s.length - 1);
    const lo = Math.floor(pos);
    return s[lo]! + (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!) * (pos - lo);
  };
  const text = (xs: number[]) => (xs.length === 0 ? '-' : `${quantile(xs, 0.5).toFixed(2)} [${quantile(xs, 0.25).toFixed(2)}, ${quantile(xs, 0.75).toFixed(2)}] (${xs.length})`);
  const methods = methodsOf(records).filter((m) => records.some((r) => r.method === m && r.family === 'dynamics'));
  const body = methods.flatMap((method) => {
    const slopes: Record<'target' | 'constraint', number[]> = { target: [], constraint: [] };
    for (const r of records) {
      if (r.method !== method || !r.calibration || r.wallSeconds === 0) continue;
      r.calibration.domains.forEach((d, i) => {
        const role = roleOf(r.scenario, d);
        const slope = r.calibration!.slopes[i];
        if ((role === 'target' || role === 'constraint') && slope !== null && slope !== undefined) slopes[role].push(slope);
      });
    }
    if (slopes.target.length + slopes.constraint.length === 0) return [];
    return [[method, text(slopes.target), text(slopes.constraint)]];
  });
  return markdownTable(['method', 'targets: median slope [quartiles] (domains)', 'constraints: median slope [quartiles] (domains)'], body);
}
