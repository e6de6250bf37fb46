// runs.*: every run the store holds — the sortable, filterable list, one run with its report, its
// curves (downsampled server-side for charts, raw on request), decisions and log, several runs
// compared — and the controls: start (one run or the baseline suite), pause, resume, cancel,
// delete, tags, CSV export.
import { z } from 'zod';
import { method } from '../rpc';
import type {
  CheckpointRecord, Decision, DecisionOutcome, MetricSeries, ReferenceRecord, RunDomain, RunLogEvent, RunPlan, RunRecord, RunReport, RunStatus, RunSummary,
} from '../runs';
import { RUN_STATUSES } from '../runs';

export const runIdSchema = z.number().int().positive();

export const RUN_SORT_KEYS = [
  'createdAt', 'name', 'strategy', 'status', 'feasible', 'targetGain', 'maxViolation', 'costMultiple', 'durationMs', 'tokensSeen',
] as const;
export type RunSortKey = (typeof RUN_SORT_KEYS)[number];

export interface RunListPage {
  runs: RunSummary[];
  /** Runs matching the filter, before limit/offset. */
  total: number;
  /** Every tag in use, for the filter's picker. */
  tags: string[];
  strategies: string[];
}

/** A curve for a chart: columnar, at most `maxPoints` points (largest-triangle downsampling keeps its shape). */
export interface CurveSeries extends MetricSeries {
  /** Points stored for this series in the requested range. */
  rawPoints: number;
  /** True when the points returned are a subset (ask again with maxPoints: 0 for all of them). */
  downsampled: boolean;
}

export interface RunDetails {
  run: RunRecord;
  /** The final report (selection, test, cost, history); null until the run completes. */
  report: RunReport | null;
  /** The plan the loop announced when it started (updates, eval steps, planned cost). */
  plan: RunPlan | null;
  /** Base losses and constraint references (from step 0); null until measured. */
  references: ReferenceRecord | null;
  checkpoints: CheckpointRecord[];
  /** Which controls apply now. */
  can: { pause: boolean; resume: boolean; cancel: boolean; delete: boolean };
}

export interface RunDecisions {
  runId: number;
  sources: string[];
  domains: RunDomain[];
  /** Constraint references in the domains' order (null for targets and monitors); null until measured. */
  references: (number | null)[] | null;
  /** The base model's regular-eval loss per domain (step 0); null until measured. */
  baseLosses: number[] | null;
  decisions: Decision[];
  /** What each decision predicted and what was measured, per domain (empty for runs without them). */
  outcomes: DecisionOutcome[];
}

export interface RunComparison {
  runs: RunSummary[];
  series: CurveSeries[];
}

export interface ConfigDiffRow {
  /** e.g. "training.learningRate", "domains[1].role". */
  path: string;
  /** One value per run, in the order asked (null where a run's configuration lacks the field). */
  values: unknown[];
}

const curveQuery = {
  kind: z.string().min(1).max(100).optional(),
  domain: z.string().max(100).optional(),
  fromStep: z.number().int().min(0).optional(),
  toStep: z.number().int().min(0).optional(),
  /** Points per series at most; 0 returns every stored point. Default 2000. */
  maxPoints: z.number().int().min(0).max(1_000_000).default(2000),
};

export const runsService = {
  list: method(
    z
      .strictObject({
        status: z.array(z.enum(RUN_STATUSES)).max(RUN_STATUSES.length).optional(),
        tag: z.string().min(1).max(64).optional(),
        strategy: z.string().min(1).max(100).optional(),
        search: z.string().max(256).optional(),
        sort: z.enum(RUN_SORT_KEYS).default('createdAt'),
        direction: z.enum(['asc', 'desc']).default('desc'),
        limit: z.number().int().min(1).max(10_000).default(500),
        offset: z.number().int().min(0).default(0),
      })
      .prefault({}),
  ).returns<RunListPage>(),
  get: method(z.strictObject({ id: runIdSchema })).returns<RunDetails>(),
  curves: method(z.strictObject({ id: runIdSchema, ...curveQuery })).returns<{ runId: number; series: CurveSeries[] }>(),
  /** The same curve (kind, and domain when given) of several runs. */
  compare: method(z.strictObject({ ids: z.array(runIdSchema).min(1).max(100), ...curveQuery, kind: z.string().min(1).max(100) })).returns<RunComparison>(),
  /** Only the configuration fields whose values differ between the runs. */
  configDiff: method(z.strictObject({ ids: z.array(runIdSchema).min(2).max(100) })).returns<ConfigDiffRow[]>(),
  decisions: method(z.strictObject({ id: runIdSchema })).returns<RunDecisions>(),
  /** The decisions of several runs in one answer, in the order asked (the compare view's one request). */
  decisionsOf: method(z.strictObject({ ids: z.array(runIdSchema).min(1).max(100) })).returns<RunDecisions[]>(),
  /** The run's log in order; a live view passes the last id it saw. */
  events: method(z.strictObject({ id: runIdSchema, afterId: z.number().int().min(0).optional(), limit: z.number().int().min(1).max(10_000).default(1000) })).returns<RunLogEvent[]>(),
  /** Validates and starts a run (with `suite`, DynaMiCS and the fixed baselines, one run each). */
  start: method(z.strictObject({ config: z.unknown(), suite: z.boolean().default(false) })).returns<{ runIds: number[] }>(),
  pause: method(z.strictObject({ id: runIdSchema })).returns<RunSummary>(),
  /** Continues a paused or interrupted run from its last complete checkpoint. */
  resume: method(z.strictObject({ id: runIdSchema })).returns<RunSummary>(),
  cancel: method(z.strictObject({ id: runIdSchema })).returns<RunSummary>(),
  /** A run that is running must be cancelled first. */
  delete: method(z.strictObject({ id: runIdSchema })).returns<void>(),
  setTags: method(z.strictObject({ id: runIdSchema, tags: z.array(z.string().min(1).max(64)).max(32) })).returns<RunSummary>(),
  rename: method(z.strictObject({ id: runIdSchema, name: z.string().min(1).max(256) })).returns<RunSummary>(),
  /**
   * Every stored point of the runs' curves as CSV (one row per run, step, kind and domain; columns
   * run_id, run_name, strategy, step, tokens, wall_ms, kind, domain, value), with a file name.
   */
  exportCsv: method(z.strictObject({ ids: z.array(runIdSchema).min(1).max(100), kind: z.string().min(1).max(100).optional() })).returns<{ fileName: string; text: string }>(),
};

export type { RunStatus };
