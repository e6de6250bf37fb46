// Runs as plain data, the one definition every side uses: the store's records (the runs list, one
// run, curves, recorded decisions, checkpoints, the run's log) and the experiment loop's reports
// (plan, decisions, evaluations, the final report). src/main/store/types.ts and
// src/main/runner/events.ts re-export these; the UI receives them through the contract.
// Times are milliseconds since the Unix epoch.
import type { CostReport, DecisionStatus, DomainRole, PlannedUpdate, SolverKind, TestReport } from './mixture';
import type { StrategyKind } from './run-config';

// ---------------------------------------------------------------- the store's records

export const RUN_STATUSES = ['created', 'running', 'paused', 'interrupted', 'completed', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

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
  /**
   * A run trained by an external trainer through the controller protocol (`dynamics serve`): it
   * resumes when that trainer registers again with the run's id, not from here.
   */
  external?: RunExternal | null;
}

export interface RunExternal {
  /** The controller protocol version it registered with. */
  protocol: number;
  /** The trainer's name for itself (a framework, a cluster). */
  trainer: string;
}

export interface RunSuiteMembership {
  key: string;
  index: number;
  size: number;
  label: string;
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
  /** The baseline suite this run belongs to (`--suite`, or a suite started from the UI); null for a run on its own. */
  suite: RunSuiteMembership | null;
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

/** A recorded decision's status: a solver's verdict, or `fixed` for a fixed mixture. */
export type StoredDecisionStatus = DecisionStatus | 'fixed';

/** One mixture decision as stored; vectors follow the run's `sources` (N) and `domains` (M) order. */
export interface Decision {
  step: number;
  /** H_t: steps until the next decision. */
  horizon: number;
  weights: number[];
  /** M×N slope matrix; null for fixed mixtures. */
  slopes: number[][] | null;
  losses: number[] | null;
  predicted: number[] | null;
  status: StoredDecisionStatus;
  /** Solver name, objective, max violation, timings… as the solver reports them. */
  solver: Record<string, unknown>;
  /** Ids of the constraint domains at their bound. */
  binding: string[];
}

/** One domain's row of a decision's outcome (OutcomeRecord as stored, by domain id). */
export interface DecisionOutcome {
  /** The decision's step. */
  step: number;
  domain: string;
  measuredAt: number;
  /** Predicted change of the probe-set loss over the horizon: uncalibrated, and as the solver used it. */
  predicted: number;
  calibrated: number;
  /** The change the evaluation at `measuredAt` measured. */
  actual: number;
}

export interface CheckpointRecord {
  runId: number;
  step: number;
  /** Relative to the data folder's runs directory. */
  path: string;
  complete: boolean;
  sha256: string | null;
  bytes: number | null;
  feasible: boolean | null;
  /** Eval loss per domain id at this step. */
  losses: Record<string, number> | null;
  createdAt: number;
}

export type EventLevel = 'debug' | 'info' | 'warn' | 'error';

/** One line of a run's log (lifecycle changes, warnings, the trainer's messages). */
export interface RunLogEvent {
  id: number;
  runId: number | null;
  at: number;
  level: EventLevel;
  message: string;
  step: number | null;
  data: unknown;
}

// ---------------------------------------------------------------- the experiment loop's reports

export type RunPhase = 'training' | 'probing' | 'evaluating';

/** A checkpoint as the trainer names it. */
export interface CheckpointRef {
  step: number;
  /** The trainer's own handle: a file path, a database key. */
  id: string;
}

export interface RunPlan {
  totalSteps: number;
  sourceIds: string[];
  domainIds: string[];
  roles: DomainRole[];
  strategy: StrategyKind;
  updates: PlannedUpdate[];
  evalSteps: number[];
  /** Expected cost as a multiple of one fixed-mixture run (no backtracking). */
  plannedCostMultiple: number;
}

export interface ReferenceRecord {
  /** Regular-eval losses of the base model (step 0). */
  baseLosses: number[];
  /** Constraint references after overrides; null for targets and monitors. */
  references: (number | null)[];
  baseTestLosses: number[];
}

export interface DecisionRecord {
  step: number;
  horizon: number;
  /** c_t; 0 for fixed strategies and gradient alignment. */
  probeSteps: number;
  strategy: StrategyKind;
  solver: SolverKind | null;
  /** The anchor L_i(θ_t) was taken from the regular evaluation at this step. */
  anchorRecycled: boolean;
  /** M: anchor losses on the probe set (regular set for fixed strategies at step 0). */
  losses: number[];
  /** M×N, or null for fixed strategies. */
  slopes: number[][] | null;
  slopeStdErrors: number[][] | null;
  /** M: margins in force per domain beyond ε (backtracking's learned overshoots). */
  extraMargins: number[];
  /** The solver's mixture, before smoothing. */
  decidedWeights: number[];
  /** The mixture actually trained on until the next update. */
  weights: number[];
  /** Predicted losses at the horizon for `weights` (null for fixed strategies). */
  predicted: number[] | null;
  status: DecisionStatus | null;
  binding: number[];
  maxViolation: number | null;
  objective: number | null;
  /** Left behind by a backtrack. */
  abandoned: boolean;
  /**
   * M: the change of each domain's loss over the horizon that the uncalibrated linear model predicts
   * for `weights` (H·S_i·w); null for fixed strategies. Absent in runs from before calibration.
   */
  predictedChange?: number[] | null;
  /** The online calibration in force at this decision [ours]; null when it is off. */
  calibration?: DecisionCalibration | null;
}

export interface DecisionCalibration {
  /** M: β_i, the factor the decision applied to domain i's slopes. */
  scale: number[];
  /** M: standard error of a calibrated prediction (residual spread); null below two measurements. */
  stdErrors: (number | null)[];
  /** M: measurements behind each domain's fit. */
  points: number[];
}

/**
 * What a decision predicted and what happened [ours]: per domain, the change of the loss on the probe
 * set over the decision's horizon, as the uncalibrated model predicted it, as the calibrated model
 * (the one the solver used) predicted it, and as the evaluation at the end of the horizon measured it.
 */
export interface OutcomeRecord {
  /** The decision's step. */
  step: number;
  /** The step the change was measured at (the decision's step + its horizon). */
  measuredAt: number;
  predicted: number[];
  calibrated: number[];
  actual: number[];
}

export interface EvalRecord {
  step: number;
  losses: number[];
  /** max over constraints of (loss − reference). */
  worstExcess: number;
  /** Feasible in the sense of METHOD §5 (constraints hold, targets improved, step > 0). */
  feasible: boolean;
  checkpoint: CheckpointRef | null;
  /** Left behind by a backtrack: not a candidate for selection. */
  abandoned: boolean;
}

export interface TrainRecord {
  /** The step the chunk ended at. */
  step: number;
  steps: number;
  meanLoss: number;
  skippedSteps: number;
  /** Tokens that carried loss in the chunk. */
  tokens: number;
}

export interface BacktrackRecord {
  fromStep: number;
  toStep: number;
  /** Constraints that were violated, by domain index. */
  violated: number[];
  extraMargins: number[];
}

export interface RunHistory {
  decisions: DecisionRecord[];
  evals: EvalRecord[];
  train: TrainRecord[];
  backtracks: BacktrackRecord[];
  /** Predicted against measured change per decision (absent in runs from before calibration). */
  outcomes?: OutcomeRecord[];
}

export interface RunReport {
  name: string;
  seed: number;
  strategy: StrategyKind;
  /** e.g. "dynamics", "uniform m=0.5". */
  label: string;
  feasible: boolean;
  test: TestReport;
  cost: CostReport;
  references: ReferenceRecord;
  /** The mixture averaged over training steps (what a static mixture equal to it would train on). */
  timeAveragedWeights: number[];
  history: RunHistory;
}

/** What the experiment loop reports as it goes. */
export type RunLoopEvent =
  | { type: 'started'; plan: RunPlan }
  | {
      type: 'progress';
      step: number;
      totalSteps: number;
      phase: RunPhase;
      /** Training tokens per second over the last training chunk (0 before any). */
      tokensPerSecond: number;
      elapsedSeconds: number;
      /** Remaining seconds at the pace so far, from the planned forward-equivalents; null at first. */
      etaSeconds: number | null;
    }
  | { type: 'references'; references: ReferenceRecord }
  | { type: 'decision'; decision: DecisionRecord }
  | { type: 'train'; record: TrainRecord }
  | { type: 'eval'; record: EvalRecord }
  | { type: 'checkpoint'; step: number; ref: CheckpointRef }
  | { type: 'backtrack'; record: BacktrackRecord }
  | { type: 'outcome'; record: OutcomeRecord }
  | { type: 'finished'; report: RunReport };

export type { CostReport, DomainRole, TestReport } from './mixture';
