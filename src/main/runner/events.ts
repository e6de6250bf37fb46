// What the experiment loop reports, as plain data (JSON-safe): progress, decisions, evaluations,
// checkpoints, backtracks, and the final report. The CLI prints them, the trainer process forwards
// them to the UI, the store persists them. The types are defined once in src/shared/runs.ts (the
// UI receives them too) and re-exported here under the loop's names.
import type { RunLoopEvent } from '../../shared/runs';

export type {
  BacktrackRecord, DecisionRecord, EvalRecord, OutcomeRecord, ReferenceRecord, RunHistory, RunPhase, RunPlan, RunReport, RunLoopEvent as RunEvent, TrainRecord,
} from '../../shared/runs';

export type RunEventListener = (event: RunLoopEvent) => void;
