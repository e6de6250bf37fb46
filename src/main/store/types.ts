// The store's records as plain data: what writers pass in and readers hand out. JSON columns are
// parsed here-side, so callers never see SQL rows. Times are milliseconds since the Unix epoch.
// The records the UI also receives (runs, curves, decisions, checkpoints, the log) are defined
// once in src/shared/runs.ts and re-exported here under the store's names.
import type { RunDomain, RunLaunch } from '../../shared/runs';

export { RUN_STATUSES } from '../../shared/runs';
export type {
  CheckpointRecord, CurveQuery, Decision, DecisionOutcome, DomainRole, EventLevel, MetricSeries, RunDomain, RunLaunch, RunListFilter, RunRecord, RunScore, RunStatus,
  RunSuiteMembership, RunSummary, StoredDecisionStatus as DecisionStatus, RunLogEvent as RunEvent,
} from '../../shared/runs';

export interface NewRun {
  name: string;
  /** The run configuration, stored as JSON exactly as given. */
  config: unknown;
  strategy: string;
  seed: number;
  /** Source ids, in the order the decisions' weight vectors use. */
  sources?: readonly string[];
  /** Domains, in the order the decisions' loss vectors and slope rows use. */
  domains?: readonly RunDomain[];
  tags?: readonly string[];
  totalSteps?: number | null;
  modelId?: number | null;
  launch?: RunLaunch | null;
}

/** One metric value at a step; `domain` is '' for run-wide metrics (learning rate, train loss). */
export interface MetricValue {
  kind: string;
  domain?: string;
  value: number;
}

/** Where a step stands: tokens trained on so far and training wall time so far. */
export interface StepProgress {
  tokens: number;
  wallMs: number;
}

/** What a completed checkpoint records besides its file. */
export interface CheckpointCompletion {
  sha256: string;
  bytes: number;
  feasible?: boolean | null;
  losses?: Record<string, number> | null;
  /** The loop's resumable state at this step (samplers, mixture, schedule position…), as JSON. */
  state: unknown;
}

export interface DatasetRecord {
  id: number;
  name: string;
  path: string;
  format: string;
  sha256: string | null;
  bytes: number | null;
  records: number | null;
  info: Record<string, unknown>;
  createdAt: number;
}

export interface ModelRecord {
  id: number;
  name: string;
  path: string;
  architecture: string | null;
  parameters: number | null;
  info: Record<string, unknown>;
  createdAt: number;
}

/** The clock the store stamps rows with; tests pass a fixed one. */
export type Clock = () => number;
