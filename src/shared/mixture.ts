// The mixture controller's plain data as every side sees it: one decision's problem and answer
// (METHOD §3), the schedule's planned updates (§4), the test report of the selected checkpoint
// (§5) and the cost report (§7). Types only, plus the cost categories' names; the solvers and the
// accounting that produce them live in src/main/mixture and re-export these definitions.
import type { DomainRole } from './run-config';

export type { DomainRole } from './run-config';
export type DecisionStatus = 'feasible' | 'infeasible';
export type SolverKind = 'lp' | 'penalty-grid';

/**
 * Per-prediction uncertainty for the noise-aware margin (a chance constraint) [ours]: constraint i
 * is tightened to
 *   L_i + H·Σ_j w_j S_ij + k·(se_i + H·Σ_j w_j se(S_ij)) ≤ ref_i − ε,
 * where k·(…) is a linear upper bound on k standard deviations of the predicted change (the standard
 * deviation of a weighted sum is at most the weighted sum of standard deviations), so the program
 * stays linear. The anchor L_i carries no noise term: the reference, the anchor and the feasibility
 * check are all measured on the same fixed batches.
 */
export interface PredictionUncertainty {
  k: number;
  /** M: a standard error of the predicted change that does not depend on w (calibration residuals), in loss units. */
  changeStdErrors: readonly number[];
  /** M×N: standard error of each slope S_ij (from the probes' paired per-batch differences). */
  slopeStdErrors: readonly (readonly number[])[];
}

export interface MixtureProblem {
  /** M×N: S_ij, the change of domain i's loss per step of training on source j. */
  slopes: readonly (readonly number[])[];
  /** M: L_i(θ_t), the current loss of each domain. */
  losses: readonly number[];
  /** M: L_i^ref for constraints; null for targets and monitors. */
  references: readonly (number | null)[];
  roles: readonly DomainRole[];
  /** H_t: steps until the next update. */
  horizon: number;
  /** ε: safety margin in loss units, subtracted from every constraint's reference. Default 0. */
  margin?: number;
  /** M: further per-domain margins (backtracking's learned overshoots) [ours]. */
  extraMargins?: readonly number[];
  uncertainty?: PredictionUncertainty;
  /** Smoothing by trust region [ours]: ‖w − center‖₁ ≤ radius (LP solver only). */
  trustRegion?: { center: readonly number[]; radius: number };
  /**
   * The LP fallback's slack [ours], in loss units: when no mixture meets every constraint, the best
   * mixture for the targets among those whose largest violation is within this of the least
   * achievable one. Default: a round-off tolerance (the paper's least-violating mixture).
   */
  fallbackSlack?: number;
}

export interface MixtureDecision {
  /** N: the mixture, on the simplex. */
  weights: number[];
  /** feasible: every constraint's (tightened) prediction meets its reference minus its margins. */
  status: DecisionStatus;
  /** M: L̂_i(w) = L_i + H·S_i·w for every domain (monitors included; no noise terms). */
  predicted: number[];
  /** max over constraints of max(0, L̂_i(w) − L_i^ref): the predicted overshoot of the references. */
  maxViolation: number;
  /** Σ_{i∈T} S_i·w, the target objective (per step); with no targets, the same over constraints. */
  objective: number;
  /** Indices of the constraints that hold the solution: at their bound, or at the least violation. */
  binding: number[];
  /**
   * Signed: max over constraints of (tightened prediction − (L_i^ref − margins)). ≤ 0 exactly when all
   * margins are met; when infeasible it is the least achievable value (the min-max LP's optimum).
   */
  marginGap: number;
  solver: SolverKind;
  /** LP fallback only: v*, the optimum of the min-max-violation LP (the second stage may exceed it by its tolerance). */
  minMaxViolation?: number;
  /** The penalty-grid candidate chosen, when that solver decided. */
  penalty?: { lambda: number; epsilon: number };
}

export interface PlannedUpdate {
  step: number;
  /** H_t: steps until the next update, or to the end of the run. */
  horizon: number;
  /** c_t = min(H_t, c_max). */
  probeSteps: number;
}

// ---------------------------------------------------------------- selection and test report (§5)

export interface TargetResult {
  domain: string;
  baseTestLoss: number;
  testLoss: number | null;
  /** 1 − ppl/ppl_base = 1 − exp(loss − base); null when no checkpoint was selected. */
  pplReduction: number | null;
}

export interface ConstraintResult {
  domain: string;
  reference: number;
  /** Regular-eval loss at the selected checkpoint. */
  evalLoss: number | null;
  baseTestLoss: number;
  testLoss: number | null;
}

export interface TestReport {
  feasible: boolean;
  selectedStep: number | null;
  /** Geometric mean over targets of the perplexity reduction: 1 − exp(mean(loss − base)); 0 when infeasible. */
  targetPplReduction: number;
  targets: TargetResult[];
  constraints: ConstraintResult[];
  /** max over constraints of (loss − reference) at the selected checkpoint (the least over checkpoints when none is feasible): ≤ 0 for a feasible run. */
  maxViolation: number;
  feasibleCheckpoints: number;
}

// ---------------------------------------------------------------- cost (§7)

export const COST_CATEGORIES = [
  'training',
  'probeTraining',
  'probeEval',
  'anchorEval',
  'regularEval',
  'testEval',
  'gradients',
  'solving',
  'checkpointing',
] as const;
export type CostCategory = (typeof COST_CATEGORIES)[number];

export interface CostWeights {
  trainStep: number;
  evalBatch: number;
}

export interface CostReport {
  /** Forward-equivalents per category (solving and checkpointing: 0, they are not model passes). */
  forwardEquivalents: Record<CostCategory, number>;
  /** One fixed-mixture run of the same length: its training steps and regular evaluations (step 0 included). */
  fixedRun: number;
  /** Everything this run did except the test evaluation, which a fixed run does too. */
  total: number;
  /** total / fixedRun. */
  multiple: number;
  /** Measured wall time per category, seconds. */
  wallSeconds: Record<CostCategory, number>;
  weights: CostWeights;
}
