// The experiment loop's own state, as plain JSON-safe data: what a store must keep, next to the
// trainer's checkpoint, to resume a run exactly. The loop hands it out after every checkpoint
// (`onState`) and takes it back through `resume`.
import { emptyCounters, type CostCategory, type CostCounters } from '../mixture/cost';
import type { SlopeEstimate } from '../mixture/slopes';
import type { ReferenceRecord, RunHistory } from './events';
import type { CheckpointRef, DomainLosses } from './trainer';

export const LOOP_STATE_VERSION = 1;

export interface LoopState {
  version: typeof LOOP_STATE_VERSION;
  /** The step the state describes; the trainer's checkpoint `checkpoint` is at this step. */
  step: number;
  checkpoint: CheckpointRef | null;
  /** The mixture in force (the last decision's applied weights). */
  weights: number[];
  references: ReferenceRecord | null;
  /** The regular evaluation at `step` (per batch), for recycling as a probe anchor after resume. */
  lastRegularEval: { step: number; losses: DomainLosses[] } | null;
  lastSlopes: SlopeEstimate | null;
  /**
   * Per domain: regular-set loss minus probe-set loss at the latest regular evaluation. Puts a
   * probe-set anchor on the regular set's scale, where the references live.
   */
  probeOffsets: number[];
  /** Per-domain margins learned by backtracking. */
  extraMargins: number[];
  backtracks: number;
  /** The last checkpoint whose constraints all held (backtracking's destination). */
  lastFeasibleCheckpoint: CheckpointRef | null;
  /** A decision is due at `step` even if it is not a scheduled update (after a backtrack). */
  forceDecision: boolean;
  /** The mixtures trained on, as [start, end) step ranges on the live trajectory (for the time average). */
  segments: { start: number; end: number; weights: number[] }[];
  /**
   * The live decision whose outcome is not measured yet [ours]: its probe-set losses at its step and
   * its predicted changes, compared with the probe-set losses at step + horizon. Absent in states
   * from before calibration.
   */
  pendingOutcome?: PendingOutcome | null;
  counters: CostCounters;
  wallSeconds: Partial<Record<CostCategory, number>>;
  history: RunHistory;
}

export interface PendingOutcome {
  step: number;
  horizon: number;
  probeLosses: number[];
  predicted: number[];
  calibrated: number[];
}

export function initialLoopState(sources: number, domains: number): LoopState {
  return {
    version: LOOP_STATE_VERSION,
    step: 0,
    checkpoint: null,
    weights: new Array<number>(sources).fill(1 / sources),
    references: null,
    lastRegularEval: null,
    lastSlopes: null,
    probeOffsets: new Array<number>(domains).fill(0),
    extraMargins: new Array<number>(domains).fill(0),
    backtracks: 0,
    lastFeasibleCheckpoint: null,
    forceDecision: true,
    segments: [],
    pendingOutcome: null,
    counters: emptyCounters(),
    wallSeconds: {},
    history: { decisions: [], evals: [], train: [], backtracks: [], outcomes: [] },
  };
}

/** A deep copy that survives JSON (what a store will write). */
export function cloneLoopState(state: LoopState): LoopState {
  return JSON.parse(JSON.stringify(state)) as LoopState;
}

export function checkLoopState(state: LoopState, sources: number, domains: number): void {
  if (state.version !== LOOP_STATE_VERSION) throw new Error(`cannot resume from loop state version ${String(state.version)} (this build writes ${LOOP_STATE_VERSION})`);
  if (state.weights.length !== sources || state.extraMargins.length !== domains) {
    throw new Error(`the saved loop state has ${state.weights.length} sources and ${state.extraMargins.length} domains, the config ${sources} and ${domains}`);
  }
  if (!state.checkpoint) throw new Error('the saved loop state has no checkpoint to resume from');
}
