// Run events and reports as terminal text: a one-line progress display (phase, step/total,
// tokens/s, elapsed, ETA) rewritten in place on a terminal and printed as plain lines otherwise,
// a line per decision and evaluation, and the report tables `dynamics run` prints at the end.
import type { CostCategory } from '../mixture/cost';
import type { RunEvent, RunReport } from './events';
import type { RunOutcome, RunSink } from './sink';
import type { SuiteReport } from './suite';

export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** 12345.6 → "12,346" (fixed grouping, whatever the locale). */
export function formatCount(x: number): string {
  return String(Math.round(x)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const num = (x: number | null, digits = 3) => (x === null || !Number.isFinite(x) ? '-' : x.toFixed(digits));

/** Columns padded to their widest cell; `right` marks right-aligned columns. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[], right: readonly boolean[] = []): string[] {
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, c) => (right[c] ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)];
}

const WALL_LABELS: [CostCategory, string][] = [
  ['training', 'training'],
  ['probeTraining', 'probe training'],
  ['probeEval', 'probe eval'],
  ['anchorEval', 'anchor eval'],
  ['gradients', 'gradients'],
  ['regularEval', 'regular eval'],
  ['testEval', 'test eval'],
  ['solving', 'solving'],
  ['checkpointing', 'checkpointing'],
];

function mixtureText(ids: readonly string[], w: readonly number[]): string {
  return ids.map((id, j) => `${id} ${(w[j] ?? 0).toFixed(2)}`).join(' · ');
}

/** The report of one run as lines: targets, constraints, feasibility, cost, wall time per phase. */
export function formatRunReport(report: RunReport, sourceIds: readonly string[]): string[] {
  const t = report.test;
  const lines = [`${report.label} · "${report.name}" · seed ${report.seed}`];
  lines.push(
    t.selectedStep === null
      ? `no feasible checkpoint (of ${report.history.evals.filter((e) => !e.abandoned && e.step > 0).length}): the run scores 0%`
      : `selected checkpoint: step ${t.selectedStep} (${t.feasibleCheckpoints} feasible)`,
  );
  lines.push('');
  lines.push(
    ...table(
      ['target', 'base test ppl', 'test ppl', 'ppl reduction'],
      t.targets.map((x) => [x.domain, num(Math.exp(x.baseTestLoss), 2), x.testLoss === null ? '-' : num(Math.exp(x.testLoss), 2), x.pplReduction === null ? '-' : pct(x.pplReduction)]),
      [false, true, true, true],
    ),
  );
  lines.push(`geometric mean target ppl reduction: ${pct(t.targetPplReduction)}`);
  if (t.constraints.length > 0) {
    lines.push('');
    lines.push(
      ...table(
        ['constraint', 'reference', 'eval loss', 'base test loss', 'test loss'],
        t.constraints.map((c) => [c.domain, num(c.reference, 4), num(c.evalLoss, 4), num(c.baseTestLoss, 4), num(c.testLoss, 4)]),
        [false, true, true, true, true],
      ),
    );
  }
  lines.push('');
  lines.push(`feasible: ${report.feasible ? 'yes' : 'no'} · max violation ${t.maxViolation.toFixed(4)} (loss above the reference; ≤ 0 when every constraint held)`);
  lines.push(`cost: ${report.cost.multiple.toFixed(2)}× one fixed-mixture run (forward-equivalents)`);
  const wall = report.cost.wallSeconds;
  const total = WALL_LABELS.reduce((s, [k]) => s + wall[k], 0);
  lines.push(`wall time: ${WALL_LABELS.filter(([k]) => wall[k] > 0).map(([k, name]) => `${name} ${wall[k].toFixed(1)} s`).join(' · ')} · total ${total.toFixed(1)} s`);
  lines.push(`time-averaged mixture: ${mixtureText(sourceIds, report.timeAveragedWeights)}`);
  return lines;
}

/** The suite side by side: one row per strategy, then the best fixed baseline. */
export function formatSuiteReport(suite: SuiteReport): string[] {
  const rows = suite.rows.map((r) => [
    r.label,
    r.feasible ? 'yes' : 'no',
    pct(r.targetPplReduction),
    r.maxViolation.toFixed(4),
    `${r.costMultiple.toFixed(2)}×`,
    r.selectedStep === null ? '-' : String(r.selectedStep),
    r.sameRunAs ? `same mixture as ${r.sameRunAs}` : '',
  ]);
  const lines = table(['run', 'feasible', 'target ppl red.', 'max violation', 'cost', 'selected step', ''], rows, [false, false, true, true, true, true, false]);
  lines.push('');
  lines.push(
    `best fixed baseline: ${suite.bestFixed.label === null ? 'none feasible' : `${suite.bestFixed.label} (${pct(suite.bestFixed.targetPplReduction)})`} · fixed runs feasible: ${suite.fixedFeasible} of ${suite.fixedTotal}`,
  );
  return lines;
}

export function formatOutcome(outcome: RunOutcome, sourceIds: readonly string[]): string[] {
  if (outcome.kind === 'single') return formatRunReport(outcome.report, sourceIds);
  const adaptive = outcome.suite.rows[0];
  const first = adaptive ? outcome.suite.runs[adaptive.label] : undefined;
  return [...formatSuiteReport(outcome.suite), ...(first ? ['', ...formatRunReport(first, sourceIds)] : [])];
}

// ---------------------------------------------------------------- live progress

export interface TerminalOutput {
  /** Rewrites the status line in place (null clears it); absent when the output is not a terminal. */
  status?: (line: string | null) => void;
  /** A line of its own. */
  line: (text: string) => void;
}

export interface ProgressOptions {
  /** Milliseconds; injected by tests. */
  now?: () => number;
  /** Without a terminal, a progress line at most this often (default 5 s). */
  plainIntervalMs?: number;
  /** On a terminal, redraw at most this often (default 100 ms). */
  redrawMs?: number;
  /** Prefix lines with the run's label (a suite). */
  showLabel?: boolean;
}

type Progress = Extract<RunEvent, { type: 'progress' }>;

/** `[######--------------]`: the share of steps done, in `width` cells. */
export function progressBar(done: number, total: number, width = 20): string {
  const share = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const full = Math.round(share * width);
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}]`;
}

export function formatProgress(p: Progress, label: string | null): string {
  const head = label ? `[${label}] ` : '';
  const width = String(p.totalSteps).length;
  const pctDone = `${Math.floor((100 * p.step) / Math.max(1, p.totalSteps))}%`.padStart(4);
  return `${head}${p.phase.padEnd(10)} ${progressBar(p.step, p.totalSteps)} ${pctDone}  step ${String(p.step).padStart(width)}/${p.totalSteps}  ${formatCount(p.tokensPerSecond)} tok/s  elapsed ${formatDuration(p.elapsedSeconds)}  ETA ${formatDuration(p.etaSeconds)}`;
}

/** A sink that shows a run's progress: a status line, and a line per decision, evaluation and backtrack. */
export class ProgressDisplay implements RunSink {
  private readonly now: () => number;
  private lastDraw = -Infinity;
  private sourceIds: string[] = [];
  private domainIds: string[] = [];

  constructor(
    private readonly out: TerminalOutput,
    private readonly options: ProgressOptions = {},
  ) {
    this.now = options.now ?? (() => performance.now());
  }

  private say(label: string, text: string): void {
    this.out.status?.(null);
    this.out.line(this.options.showLabel ? `[${label}] ${text}` : text);
  }

  event(label: string, e: RunEvent): void {
    switch (e.type) {
      case 'started':
        this.sourceIds = e.plan.sourceIds;
        this.domainIds = e.plan.domainIds;
        this.lastDraw = -Infinity;
        this.say(label, `${e.plan.totalSteps} steps, ${e.plan.updates.length} mixture update${e.plan.updates.length === 1 ? '' : 's'}, planned cost ${e.plan.plannedCostMultiple.toFixed(2)}× a fixed run`);
        break;
      case 'progress': {
        const t = this.now();
        const text = formatProgress(e, this.options.showLabel ? label : null);
        if (this.out.status) {
          if (t - this.lastDraw >= (this.options.redrawMs ?? 100)) {
            this.out.status(text);
            this.lastDraw = t;
          }
        } else if (t - this.lastDraw >= (this.options.plainIntervalMs ?? 5000)) {
          this.out.line(text);
          this.lastDraw = t;
        }
        break;
      }
      case 'decision': {
        const d = e.decision;
        const how = d.status === null ? 'fixed' : `${d.status}${d.maxViolation !== null && d.maxViolation > 0 ? `, predicted violation ${d.maxViolation.toFixed(4)}` : ''}`;
        this.say(label, `step ${d.step}: mixture ${mixtureText(this.sourceIds, d.weights)} (${how}, for ${d.horizon} steps)`);
        break;
      }
      case 'eval':
        this.say(
          label,
          `step ${e.record.step}: eval ${this.domainIds.map((id, i) => `${id} ${num(e.record.losses[i] ?? null)}`).join(' · ')}${e.record.step > 0 ? ` (${e.record.feasible ? 'feasible' : 'not feasible'})` : ''}`,
        );
        break;
      case 'backtrack':
        this.say(label, `step ${e.record.fromStep}: constraints ${e.record.violated.map((i) => this.domainIds[i]).join(', ')} violated, back to step ${e.record.toStep}`);
        break;
      case 'finished':
        this.say(label, `finished: ${e.report.feasible ? 'feasible' : 'infeasible'}, target ppl reduction ${pct(e.report.test.targetPplReduction)}`);
        break;
      default:
        break;
    }
  }
}
