// Stored runs as terminal text and as files: the runs list, one run in detail, a run's metrics as
// CSV (one row per step, kind and domain), and several runs side by side. Pure functions of what
// the store's reader returns.
import { formatDuration, table } from '../../runner/terminal';
import { calibrationSlope } from '../../mixture/calibration';
import type { CheckpointRecord, DecisionOutcome, MetricSeries, RunEvent, RunRecord, RunSummary } from '../../store/types';

const pct = (x: number | null) => (x === null || !Number.isFinite(x) ? '-' : `${(100 * x).toFixed(1)}%`);
const num = (x: number | null | undefined, digits = 4) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits));
const yesNo = (x: boolean | null) => (x === null ? '-' : x ? 'yes' : 'no');

/** 2026-01-31 14:25 in local time: sortable and short. */
export function formatTime(ms: number | null): string {
  if (ms === null) return '-';
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

function stepText(r: RunSummary): string {
  return `${r.lastStep ?? 0}/${r.totalSteps ?? '?'}`;
}

export function formatRunList(runs: readonly RunSummary[]): string[] {
  if (runs.length === 0) return ['no runs'];
  return table(
    ['id', 'name', 'strategy', 'status', 'step', 'feasible', 'target ppl red.', 'max violation', 'cost', 'created'],
    runs.map((r) => [
      String(r.id), r.name, r.strategy, r.status, stepText(r), yesNo(r.feasible), pct(r.targetGain), num(r.maxViolation),
      r.costMultiple === null ? '-' : `${r.costMultiple.toFixed(2)}×`, formatTime(r.createdAt),
    ]),
    [true, false, false, false, true, false, true, true, true, false],
  );
}

/** The last value of each series of `kind`, by domain. */
function lastValues(series: readonly MetricSeries[], kind: string): Map<string, { step: number; value: number }> {
  const out = new Map<string, { step: number; value: number }>();
  for (const s of series) {
    if (s.kind !== kind || s.steps.length === 0) continue;
    out.set(s.domain, { step: s.steps.at(-1)!, value: s.values.at(-1)! });
  }
  return out;
}

export interface RunDetail {
  run: RunRecord;
  checkpoints: CheckpointRecord[];
  decisions: number;
  /** What each decision predicted and what was measured, per domain. */
  outcomes: DecisionOutcome[];
  series: MetricSeries[];
  events: RunEvent[];
}

export function formatRunDetail(d: RunDetail): string[] {
  const r = d.run;
  const lines = [
    `run ${r.id}: ${r.name} · ${r.strategy} · seed ${r.seed}`,
    `status: ${r.status}${r.statusReason ? ` (${r.statusReason})` : ''}`,
    `step: ${stepText(r)} · tokens ${r.tokensSeen} · training time ${formatDuration(r.durationMs / 1000)}`,
    `device: ${r.device ?? '-'}${r.deviceReason ? ` (${r.deviceReason})` : ''}`,
    `created ${formatTime(r.createdAt)} · started ${formatTime(r.startedAt)} · finished ${formatTime(r.finishedAt)} · app ${r.appVersion}`,
    `sources: ${r.sources.join(', ')}`,
    `domains: ${r.domains.map((x) => `${x.id} (${x.role})`).join(', ')}`,
  ];
  if (r.tags.length > 0) lines.push(`tags: ${r.tags.join(', ')}`);
  if (r.launch?.configFile) lines.push(`config: ${r.launch.configFile}`);
  if (r.launch?.suite) lines.push(`suite: run ${r.launch.suite.index + 1} of ${r.launch.suite.size} (${r.launch.suite.label})`);
  lines.push(`score: feasible ${yesNo(r.feasible)} · target ppl reduction ${pct(r.targetGain)} · max violation ${num(r.maxViolation)} · cost ${r.costMultiple === null ? '-' : `${r.costMultiple.toFixed(2)}×`} · selected step ${r.selectedStep ?? '-'}`);
  const evals = lastValues(d.series, 'eval_loss');
  if (evals.size > 0) {
    lines.push('');
    lines.push(...table(['domain', 'role', 'last eval loss', 'at step'], r.domains.map((x) => [x.id, x.role, num(evals.get(x.id)?.value), String(evals.get(x.id)?.step ?? '-')]), [false, false, true, true]));
  }
  lines.push('', `decisions: ${d.decisions} · checkpoints: ${d.checkpoints.length}${d.checkpoints.length > 0 ? ` (steps ${d.checkpoints.map((c) => c.step).join(', ')})` : ''}`);
  if (d.outcomes.length > 0) lines.push('', ...calibrationLines(r, d.outcomes));
  if (d.events.length > 0) {
    lines.push('', 'log:');
    for (const e of d.events) lines.push(`  ${formatTime(e.at)}  ${e.level.padEnd(5)} ${e.step === null ? '' : `[step ${e.step}] `}${e.message}`);
  }
  return lines;
}

/**
 * The calibration per domain: how the measured change of each decision's horizon compared with the
 * prediction (the least-squares slope through the origin: 1 when the predictions had the right size,
 * 0.5 when they were twice too large), for the uncalibrated model and for the calibrated one the
 * solver used, with the correlation and the mean absolute error of each.
 */
export function calibrationLines(run: Pick<RunRecord, 'domains'>, outcomes: readonly DecisionOutcome[]): string[] {
  const rows = run.domains.map((dom) => {
    const mine = outcomes.filter((o) => o.domain === dom.id);
    const fit = (key: 'predicted' | 'calibrated') => calibrationSlope(mine.map((o) => ({ predicted: [o[key]], actual: [o.actual] })), 0);
    const mae = (key: 'predicted' | 'calibrated') => (mine.length === 0 ? null : mine.reduce((s, o) => s + Math.abs(o.actual - o[key]), 0) / mine.length);
    const raw = fit('predicted');
    const cal = fit('calibrated');
    return [dom.id, dom.role, String(mine.length), num(raw.slope, 2), num(raw.correlation, 2), num(mae('predicted')), num(cal.slope, 2), num(mae('calibrated'))];
  });
  return [
    'calibration (measured against predicted change over each decision\'s horizon):',
    ...table(['domain', 'role', 'decisions', 'slope', 'correlation', 'mean |error|', 'calibrated slope', 'calibrated |error|'], rows, [false, false, true, true, true, true, true, true]),
  ];
}

/** A CSV field: quoted when it holds a comma, a quote or a line break. */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = typeof value === 'number' ? (Number.isNaN(value) ? 'NaN' : String(value)) : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export const CSV_COLUMNS = ['run_id', 'run_name', 'strategy', 'step', 'tokens', 'wall_ms', 'kind', 'domain', 'value'] as const;

/** Every stored point of the runs' curves: one line per run, series and step, with the header. */
export function metricsCsv(runs: readonly { run: RunSummary; series: readonly MetricSeries[] }[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const { run, series } of runs) {
    for (const s of series) {
      for (let i = 0; i < s.steps.length; i++) {
        lines.push([run.id, run.name, run.strategy, s.steps[i]!, s.tokens[i] ?? null, s.wallMs[i] ?? null, s.kind, s.domain, s.values[i]!].map(csvField).join(','));
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Runs side by side: their scores and the last value of `kind` per domain. */
export function formatComparison(runs: readonly { run: RunRecord; series: readonly MetricSeries[] }[], kind: string): string[] {
  const domains = [...new Set(runs.flatMap((r) => r.series.filter((s) => s.kind === kind).map((s) => s.domain)))];
  const headers = ['id', 'name', 'strategy', 'status', 'feasible', 'target ppl red.', 'max violation', 'cost', 'selected', ...domains.map((d) => `${kind} ${d || '(run)'}`)];
  const rows = runs.map(({ run: r, series }) => {
    const last = lastValues(series, kind);
    return [
      String(r.id), r.name, r.strategy, r.status, yesNo(r.feasible), pct(r.targetGain), num(r.maxViolation),
      r.costMultiple === null ? '-' : `${r.costMultiple.toFixed(2)}×`, r.selectedStep === null ? '-' : String(r.selectedStep),
      ...domains.map((d) => num(last.get(d)?.value)),
    ];
  });
  return table(headers, rows, headers.map((_, c) => c === 0 || c >= 5));
}
