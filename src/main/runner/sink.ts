// Where a run's events go. A RunSink receives every loop event tagged with its run's label, the
// loop's resumable state after each checkpoint, and the outcome at the end; the CLI's progress
// display and the JSON report file are sinks, and the run store plugs in as one more (writing
// rows as events arrive, and the state beside each checkpoint) without changing the launcher.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RunConfig } from '../../shared/run-config';
import type { DeviceChoice } from '../engine/runtime-api';
import type { DatasetUse } from './data-report';
import type { RunEvent, RunReport } from './events';
import type { LoopState } from './state';
import type { SuiteReport } from './suite';

export interface RunInfo {
  config: RunConfig;
  suite: boolean;
  /** The device the (first) trainer runs on, and why it was chosen. */
  device: DeviceChoice;
  /** The folder holding the run's checkpoints. */
  runDir: string;
  startedAt: string;
  /** Each source's and domain's rows, with the examples truncated and the tokens lost. */
  data?: readonly DatasetUse[];
}

export type RunOutcome = { kind: 'single'; report: RunReport } | { kind: 'suite'; suite: SuiteReport };

export interface RunSink {
  /** Once the model and data are loaded and the first trainer exists, before its first step. */
  begin?(info: RunInfo): void;
  /** Every event of every run, with the run's label ("dynamics", "uniform m=0.5", …). */
  event?(label: string, event: RunEvent): void;
  /** The loop's JSON-safe state after each checkpoint (what a resume needs besides the checkpoint). */
  state?(label: string, state: LoopState): void;
  /** After the last run finished; not called when a run failed or was cancelled. */
  end?(outcome: RunOutcome): void | Promise<void>;
}

/** One sink that forwards to several, in order. */
export function fanOut(...sinks: readonly RunSink[]): Required<RunSink> {
  return {
    begin: (info) => sinks.forEach((s) => s.begin?.(info)),
    event: (label, e) => sinks.forEach((s) => s.event?.(label, e)),
    state: (label, st) => sinks.forEach((s) => s.state?.(label, st)),
    end: async (outcome) => {
      for (const s of sinks) await s.end?.(outcome);
    },
  };
}

export const REPORT_FORMAT = 'dynamics-run-report-1';

/** The JSON file `dynamics run` writes: the config, the device, and every run's report with its full history. */
export interface ReportFile {
  format: typeof REPORT_FORMAT;
  config: RunConfig;
  device: DeviceChoice;
  /** Each source's and domain's rows, with the examples truncated and the tokens lost (when known). */
  data?: readonly DatasetUse[];
  startedAt: string;
  finishedAt: string;
  outcome: RunOutcome;
}

/** Writes the report file at the end (temp name, then rename, so a reader never sees half of it). */
export class JsonReportSink implements RunSink {
  private info: RunInfo | null = null;

  constructor(
    readonly file: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  begin(info: RunInfo): void {
    this.info = info;
  }

  end(outcome: RunOutcome): void {
    if (!this.info) throw new Error('the report sink ended before the run began');
    const doc: ReportFile = {
      format: REPORT_FORMAT,
      config: this.info.config,
      device: this.info.device,
      ...(this.info.data ? { data: this.info.data } : {}),
      startedAt: this.info.startedAt,
      finishedAt: this.now().toISOString(),
      outcome,
    };
    mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = path.join(path.dirname(this.file), `.${path.basename(this.file)}.${process.pid}.tmp`);
    writeFileSync(tmp, `${JSON.stringify(doc, null, 1)}\n`);
    renameSync(tmp, this.file);
  }
}
