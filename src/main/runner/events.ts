// What the experiment loop reports, as plain data (JSON-safe): progress, decisions, evaluations,
// checkpoints, backtracks, and the final report. The CLI prints them, the trainer process forwards
// them to the UI, the store persists them.
import type { CostReport } from '../mixture/cost';
import type { DecisionStatus, DomainRole, SolverKind } from '../mixture/problem';
import type { PlannedUpdate } from '../mixture/schedule';
import type { TestReport } from '../mixture/selection';
import type { StrategyKind } from '../../shared/run-config';
import type { CheckpointRef } from './trainer';

export type RunPhase = 'training' | 'probing' | 'evaluating';

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

export type RunEvent =
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
  | { type: 'finished'; report: RunReport };

export type RunEventListener = (event: RunEvent) => void;
