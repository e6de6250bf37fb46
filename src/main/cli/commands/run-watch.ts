// Following runs from the terminal while their trainer processes work: the progress bar and the
// decision/evaluation lines (from the supervisor's events), Ctrl-C to pause at the next safe point
// (twice: stop at once), and at the end the report — one run's tables, or the suite side by side —
// with an exit code that says how it went.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RunConfig } from '../../../shared/run-config';
import type { DeviceChoice } from '../../engine/runtime-api';
import type { RunEvent, RunReport } from '../../runner/events';
import { REPORT_FORMAT, type ReportFile } from '../../runner/sink';
import type { RunSupervisor } from '../../runner/supervisor';
import type { SuiteReport, SuiteRow } from '../../runner/suite';
import { formatOutcome, formatRunReport, ProgressDisplay, table, type TerminalOutput } from '../../runner/terminal';
import { REPORT_FILE } from '../../runner/run-files';
import type { Store } from '../../store/index';
import type { RunSummary } from '../../store/types';
import type { CliIo } from '../command';

/** On a terminal the status line is rewritten in place; elsewhere progress comes as plain lines on stderr. */
export function terminalOutput(io: CliIo): TerminalOutput {
  const write = io.write;
  if (!write || process.stdout.isTTY !== true) return { line: (t) => io.err(t) };
  let shown = false;
  return {
    status: (line) => {
      if (line === null) {
        if (shown) write('\r\x1b[K');
        shown = false;
        return;
      }
      // a pseudo-terminal may report 0 columns
      const width = Math.max(20, (process.stdout.columns || 100) - 1);
      write(`\r\x1b[K${line.slice(0, width)}`);
      shown = true;
    },
    line: (t) => io.out(t),
  };
}

export interface WatchOptions {
  supervisor: RunSupervisor;
  store: Store;
  /** The runs to follow, in order (a suite's members). */
  ids: readonly number[];
  io: CliIo;
  /** Write the report (config, device, outcome with full history) here as JSON. */
  reportFile?: string | null;
  /** The runs folder, to name each run's own report file. */
  runFolder: (runId: number) => string;
}

const pct = (x: number | null) => (x === null ? '-' : `${(100 * x).toFixed(1)}%`);
const num = (x: number | null, digits = 4) => (x === null || !Number.isFinite(x) ? '-' : x.toFixed(digits));

function suiteTable(runs: readonly RunSummary[]): string[] {
  const rows = runs.map((r) => [
    String(r.id),
    r.strategy,
    r.status,
    r.feasible === null ? '-' : r.feasible ? 'yes' : 'no',
    pct(r.targetGain),
    num(r.maxViolation),
    r.costMultiple === null ? '-' : `${r.costMultiple.toFixed(2)}×`,
    r.selectedStep === null ? '-' : String(r.selectedStep),
    /^the same mixture as run \d+/.test(r.statusReason ?? '') ? (r.statusReason ?? '').split(',')[0]! : '',
  ]);
  const lines = table(['run', 'strategy', 'status', 'feasible', 'target ppl red.', 'max violation', 'cost', 'selected step', ''], rows, [true, false, false, false, true, true, true, true, false]);
  const fixed = runs.filter((r) => r.strategy.startsWith('uniform') || r.strategy.startsWith('proportional'));
  const feasible = fixed.filter((r) => r.status === 'completed' && r.feasible === true);
  const best = feasible.reduce<RunSummary | null>((b, r) => (b === null || (r.targetGain ?? 0) > (b.targetGain ?? 0) ? r : b), null);
  lines.push('');
  lines.push(`best fixed baseline: ${best ? `${best.strategy} (${pct(best.targetGain)})` : 'none feasible'} · fixed runs feasible: ${feasible.length} of ${fixed.length}`);
  return lines;
}

const SAME_MIXTURE = /^the same mixture as run \d+ \((.+?)\), so not trained again/;

/** A completed suite as the loop's SuiteReport, rebuilt from the stored runs and the reports seen. */
export function storedSuiteReport(store: Store, ids: readonly number[], reports: ReadonlyMap<number, RunReport>): SuiteReport {
  const rows: SuiteRow[] = ids.map((id) => {
    const r = store.reader.get(id);
    const strategy = (r.config as RunConfig).strategy;
    const fixed = strategy.kind.startsWith('fixed-');
    const first = fixed ? store.reader.decisions(id)[0] : undefined;
    return {
      label: r.strategy,
      strategy,
      weights: first ? first.weights : null,
      feasible: r.feasible === true,
      targetPplReduction: r.targetGain ?? 0,
      maxViolation: r.maxViolation ?? Number.NaN,
      costMultiple: r.costMultiple ?? Number.NaN,
      selectedStep: r.selectedStep,
      sameRunAs: SAME_MIXTURE.exec(r.statusReason ?? '')?.[1] ?? null,
    };
  });
  // A twin's mixture is its original's.
  for (const row of rows) if (row.sameRunAs && !row.weights) row.weights = rows.find((o) => o.label === row.sameRunAs)?.weights ?? null;
  const fixedRows = rows.filter((r) => r.weights !== null);
  let bestFixed: SuiteReport['bestFixed'] = { label: null, targetPplReduction: 0 };
  for (const r of fixedRows) if (r.feasible && (bestFixed.label === null || r.targetPplReduction > bestFixed.targetPplReduction)) bestFixed = { label: r.label, targetPplReduction: r.targetPplReduction };
  const runs: Record<string, RunReport> = {};
  for (const id of ids) {
    const report = reports.get(id);
    if (report) runs[store.reader.get(id).strategy] = report;
  }
  return { rows, bestFixed, fixedFeasible: fixedRows.filter((r) => r.feasible).length, fixedTotal: fixedRows.length, runs };
}

function writeReport(file: string, doc: ReportFile): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  writeFileSync(tmp, `${JSON.stringify(doc, null, 1)}\n`);
  renameSync(tmp, file);
}

/** Follows the runs until no trainer process is left; prints the outcome; returns the exit code. */
export async function watchRuns(options: WatchOptions): Promise<number> {
  const { supervisor, store, ids, io } = options;
  const suite = ids.length > 1;
  const labels = new Map(ids.map((id) => [id, store.reader.get(id).strategy]));
  const reports = new Map<number, RunReport>();
  const devices = new Map<number, DeviceChoice>();
  const startedAt = new Date().toISOString();
  const out = terminalOutput(io);
  const display = new ProgressDisplay(out, { showLabel: suite });
  const followed = new Set(ids);
  const unsubscribe = supervisor.subscribe((e) => {
    if (!followed.has(e.runId)) return;
    const label = labels.get(e.runId) ?? String(e.runId);
    switch (e.type) {
      case 'preparing':
        out.status?.(null);
        io.err(suite ? `[${label}] ${e.message}` : e.message);
        break;
      case 'device':
        devices.set(e.runId, { device: e.device as DeviceChoice['device'], reason: e.reason });
        out.status?.(null);
        io.err(`${suite ? `[${label}] ` : ''}device: ${e.device} (${e.reason})`);
        break;
      case 'status':
        if (e.status !== 'running' && e.status !== 'created') {
          out.status?.(null);
          io.err(`${suite ? `[${label}] ` : ''}run ${e.runId} ${e.status}${e.reason ? `: ${e.reason}` : ''}`);
        }
        break;
      case 'output':
        break;
      default: {
        const { runId: _, ...event } = e;
        if (event.type === 'finished') reports.set(e.runId, event.report);
        display.event(label, event as RunEvent);
      }
    }
  });

  let interrupts = 0;
  const onInterrupt = (): void => {
    interrupts++;
    const active = supervisor.active().map((a) => a.runId);
    out.status?.(null);
    if (interrupts === 1) {
      io.err('pausing at the next safe point (a checkpoint is saved; press Ctrl-C again to stop at once)');
      for (const id of active) void supervisor.pause(id).catch(() => undefined);
      void io.untilInterrupted().then(onInterrupt);
    } else {
      io.err('stopping now');
      for (const id of active) void supervisor.kill(id).catch(() => undefined);
    }
  };
  void io.untilInterrupted().then(onInterrupt);

  try {
    await supervisor.whenIdle();
  } finally {
    unsubscribe();
    out.status?.(null);
  }

  const runs = ids.map((id) => store.reader.get(id));
  const config = store.reader.get(ids[0]!).config as RunConfig;
  const completed = runs.every((r) => r.status === 'completed');
  if (completed) {
    const sourceIds = config.sources.map((s) => s.id);
    if (suite) {
      io.out(formatOutcome({ kind: 'suite', suite: storedSuiteReport(store, ids, reports) }, sourceIds).join('\n'));
    } else {
      const report = reports.get(ids[0]!);
      if (report) io.out(formatRunReport(report, sourceIds).join('\n'));
      else io.out(`run ${ids[0]} completed: ${runs[0]!.statusReason ?? ''}`);
    }
    const first = ids[0]!;
    if (options.reportFile && reports.size > 0) {
      const doc: ReportFile = {
        format: REPORT_FORMAT,
        config,
        device: devices.get(first) ?? { device: 'cpu', reason: 'unknown' },
        startedAt,
        finishedAt: new Date().toISOString(),
        outcome: suite ? { kind: 'suite', suite: storedSuiteReport(store, ids, reports) } : { kind: 'single', report: reports.get(first)! },
      };
      writeReport(options.reportFile, doc);
      io.out(`\nreport and history: ${options.reportFile}`);
    } else if (!suite) {
      io.out(`\nreport and history: ${path.join(options.runFolder(first), REPORT_FILE)}`);
    }
    return 0;
  }
  if (suite) io.out(suiteTable(runs).join('\n'));
  const stopped = runs.find((r) => r.status !== 'completed' && r.status !== 'created' && !(suite && r.status === 'cancelled' && /same suite/.test(r.statusReason ?? '')));
  if (!stopped) return 1;
  if (stopped.status === 'paused') {
    io.err(`dynamics: run ${stopped.id} is paused (${stopped.statusReason ?? 'at a checkpoint'}); continue it with \`dynamics resume ${stopped.id}\``);
    return 130;
  }
  if (stopped.status === 'cancelled') {
    io.err(`dynamics: run ${stopped.id} was cancelled`);
    return 130;
  }
  if (stopped.status === 'interrupted') {
    io.err(`dynamics: run ${stopped.id} was interrupted: ${stopped.statusReason ?? 'the trainer process stopped'}; continue it with \`dynamics resume ${stopped.id}\``);
    return interrupts > 0 ? 130 : 1;
  }
  // failed: the trainer's one sentence, as any other refusal of this command.
  const reason = stopped.statusReason ?? 'the trainer failed';
  io.err(`dynamics: ${reason}`);
  return reason.startsWith('internal error') ? 1 : 2;
}
