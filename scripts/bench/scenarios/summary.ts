// The scenario benchmark's aggregation (pure): per (scenario, seed) cell, the value of every
// method — a DynaMiCS variant's run, the paper's fixed grid as best@1 (the median grid run) and
// best@10 (the best grid run), the best fixed mixture that may leave sources out (grid plus the
// leave-out family), and the static mixture equal to each DynaMiCS run's time average — then, over
// cells, the median target perplexity reduction, the feasible share and the median cost multiple.
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
  /** Share of the cells where this method's reduction beats best@10's (strictly). */
  beatsBest10: number;
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
}

/** The paper's grid has 10 runs per cell; a cell is complete for best@k only with all of them. */
export const GRID_SIZE = 10;

export function methodValue(cell: Cell, method: string): CellValue | null {
  const grid = cell.runs.filter((r) => r.family === 'grid');
  const gridComplete = grid.length >= GRID_SIZE;
  if (method === 'best@1') {
    if (!gridComplete) return null;
    return { reduction: median(grid.map((r) => r.targetPplReduction)), feasible: grid.filter((r) => r.feasible).length / grid.length, cost: 1 };
  }
  if (method === 'best@10') {
    if (!gridComplete) return null;
    return { reduction: Math.max(...grid.map((r) => r.targetPplReduction)), feasible: grid.some((r) => r.feasible) ? 1 : 0, cost: grid.length };
  }
  if (method === 'best fixed (may leave out)') {
    const leave = cell.runs.filter((r) => r.family === 'leave-out');
    if (!gridComplete || leave.length === 0) return null;
    const all = [...grid, ...leave];
    return { reduction: Math.max(...all.map((r) => r.targetPplReduction)), feasible: all.some((r) => r.feasible) ? 1 : 0, cost: all.length };
  }
  const run = cell.runs.find((r) => r.method === method);
  if (!run) return null;
  return { reduction: run.targetPplReduction, feasible: run.feasible ? 1 : 0, cost: run.family === 'dynamics' ? run.costMultiple : 1 };
}

/** Methods in report order: DynaMiCS variants as first seen, the fixed comparisons, then averages. */
export function methodsOf(records: readonly RunRecord[]): string[] {
  const dyn: string[] = [];
  const avg: string[] = [];
  for (const r of records) {
    if (r.family === 'dynamics' && !dyn.includes(r.method)) dyn.push(r.method);
    if (r.family === 'average' && !avg.includes(r.method)) avg.push(r.method);
  }
  return [...dyn, 'best@1', 'best@10', 'best fixed (may leave out)', ...avg];
}

export function summarize(records: readonly RunRecord[]): MethodSummary[] {
  const cells = cellsOf(records);
  return methodsOf(records).map((method) => {
    const values: CellValue[] = [];
    let beats = 0;
    let compared = 0;
    for (const cell of cells) {
      const v = methodValue(cell, method);
      if (!v) continue;
      values.push(v);
      const b10 = methodValue(cell, 'best@10');
      if (b10) {
        compared++;
        if (v.reduction > b10.reduction) beats++;
      }
    }
    const feasibleRate = values.length === 0 ? NaN : values.reduce((s, v) => s + v.feasible, 0) / values.length;
    return {
      method,
      cells: values.length,
      medianReduction: median(values.map((v) => v.reduction)),
      feasibleRate,
      medianCost: median(values.map((v) => v.cost)),
      beatsBest10: compared === 0 ? NaN : beats / compared,
    };
  });
}

const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : '-');

/** The summary as a Markdown-style table. */
export function summaryTable(rows: readonly MethodSummary[]): string[] {
  const head = ['method', 'cells', 'median target ppl reduction', 'feasible', 'median cost ×', 'beats best@10 in'];
  const body = rows.map((r) => [r.method, String(r.cells), pct(r.medianReduction), pct(r.feasibleRate), Number.isFinite(r.medianCost) ? r.medianCost.toFixed(2) : '-', pct(r.beatsBest10)]);
  const widths = head.map((h, k) => Math.max(h.length, ...body.map((row) => row[k]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, k) => (k === 0 ? c.padEnd(widths[k]!) : c.padStart(widths[k]!))).join(' | ')} |`;
  return [line(head), `|${widths.map((w, k) => (k === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...body.map(line)];
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
