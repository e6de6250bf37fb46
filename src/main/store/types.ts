// The store's records as plain data: what writers pass in and readers hand out. JSON columns are
// parsed here-side, so callers never see SQL rows. Times are milliseconds since the Unix epoch.

export const RUN_STATUSES = ['created', 'running', 'paused', 'interrupted', 'completed', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export type DomainRole = 'target' | 'constraint' | 'monitor';

export interface RunDomain {
  id: string;
  role: DomainRole;
}

/**
 * How a run was launched: what a later resume (by another process, in another session) needs
 * besides the config, which the store keeps as given.
 */
export interface RunLaunch {
  /** The folder the config's relative model and dataset paths resolve against (the config file's). */
  baseDir: string;
  /** The config file the run came from, when there was one (for display; the config is stored). */
  configFile: string | null;
  /** For the runs of a baseline suite: the suite's key, this run's place in it and its label. */
  suite: RunSuiteMembership | null;
}

export interface RunSuiteMembership {
  key: string;
  index: number;
  size: number;
  label: string;
}

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

/** The scored outcome of a run (METHOD.md sections 5 and 7), shown in the runs list. */
export interface RunScore {
  feasible: boolean | null;
  /** Target test-perplexity reduction, as a fraction (0.08 for 8%). */
  targetGain: number | null;
  maxViolation: number | null;
  costMultiple: number | null;
  selectedStep: number | null;
}

/** One row of the runs list. */
export interface RunSummary extends RunScore {
  id: number;
  name: string;
  strategy: string;
  seed: number;
  status: RunStatus;
  statusReason: string | null;
  tags: string[];
  device: string | null;
  createdAt: number;
  startedAt: number | null;
  updatedAt: number;
  finishedAt: number | null;
  totalSteps: number | null;
  lastStep: number | null;
  tokensSeen: number;
  durationMs: number;
}

/** One run in full. */
export interface RunRecord extends RunSummary {
  config: unknown;
  sources: string[];
  domains: RunDomain[];
  appVersion: string;
  deviceReason: string | null;
  modelId: number | null;
  /** Null for runs stored before launch details were recorded. */
  launch: RunLaunch | null;
}

export interface RunListFilter {
  status?: RunStatus | readonly RunStatus[];
  tag?: string;
  /** Case-insensitive substring of the name. */
  search?: string;
  limit?: number;
  offset?: number;
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

/** One curve, columnar (what a chart wants). tokens/wallMs are null where the step had no progress row. */
export interface MetricSeries {
  runId: number;
  kind: string;
  domain: string;
  steps: number[];
  values: number[];
  tokens: (number | null)[];
  wallMs: (number | null)[];
}

export interface CurveQuery {
  kind?: string;
  domain?: string;
  fromStep?: number;
  toStep?: number;
}

export type DecisionStatus = 'feasible' | 'infeasible' | 'fixed';

/** One mixture decision; vectors follow the run's `sources` (N) and `domains` (M) order. */
export interface Decision {
  step: number;
  /** H_t: steps until the next decision. */
  horizon: number;
  weights: number[];
  /** M×N slope matrix; null for fixed mixtures. */
  slopes: number[][] | null;
  losses: number[] | null;
  predicted: number[] | null;
  status: DecisionStatus;
  /** Solver name, objective, max violation, timings… as the solver reports them. */
  solver: Record<string, unknown>;
  /** Ids of the constraint domains at their bound. */
  binding: string[];
}

export interface CheckpointRecord {
  runId: number;
  step: number;
  /** Relative to the data folder's runs directory (see CheckpointFiles). */
  path: string;
  complete: boolean;
  sha256: string | null;
  bytes: number | null;
  feasible: boolean | null;
  /** Eval loss per domain id at this step. */
  losses: Record<string, number> | null;
  createdAt: number;
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

export type EventLevel = 'debug' | 'info' | 'warn' | 'error';

export interface RunEvent {
  id: number;
  runId: number | null;
  at: number;
  level: EventLevel;
  message: string;
  step: number | null;
  data: unknown;
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
