// Events pushed from the core to every subscriber (the Electron window, the browser UI).
// Each entry is the payload type of one event name. Payloads are plain and small: a live view
// appends what an event carries and asks a service for anything bigger.
import type { DatasetImportPhase } from './services/datasets';
import type { Decision, RunPhase, RunStatus } from './runs';

export interface RunProgressEvent {
  runId: number;
  phase: RunPhase;
  step: number;
  totalSteps: number;
  /** Training tokens per second over the last training chunk (0 before any). */
  tokensPerSecond: number;
  elapsedSeconds: number;
  /** Remaining seconds at the pace so far; null until there is a pace. */
  etaSeconds: number | null;
  /** Training tokens (with loss) seen so far, this run's earlier sessions included. */
  tokensSeen: number;
  /** The device in use and why, e.g. "cpu" / "CUDA EP not installed"; null before the trainer starts. */
  device: string | null;
  deviceReason: string | null;
}

/** One metric point as the store records it; `domain` is '' for run-wide metrics (train loss, learning rate). */
export interface MetricPoint {
  step: number;
  kind: string;
  domain: string;
  value: number;
}

export interface EventMap {
  /** Sent once per subscriber connection so a client can tell the stream is live. */
  'system.hello': { serverTime: number };
  /** A running run's position, at most a few times per second per run. */
  'run.progress': RunProgressEvent;
  /** A run was created, started, paused, resumed, finished, failed, interrupted, cancelled or deleted. */
  'run.status': { runId: number; status: RunStatus | 'deleted'; reason: string | null };
  /** A mixture decision, as `runs.decisions` returns it. */
  'run.decision': { runId: number; decision: Decision };
  /** A regular evaluation: loss per domain id, and whether the checkpoint is feasible (METHOD §5). */
  'run.eval': { runId: number; step: number; losses: Record<string, number>; feasible: boolean; worstExcess: number };
  /** Metric points as they are written (batched), as `runs.curves` would return them. */
  'run.metrics': { runId: number; points: MetricPoint[] };
  'dataset.import.progress': {
    progressId: string;
    name: string;
    phase: DatasetImportPhase;
    bytesDone: number;
    bytesTotal: number;
    /** Records read so far (a lower bound while reading). */
    records: number;
  };
  'model.import.progress': { progressId: string; phase: 'reading' | 'checking' | 'done'; done: number; total: number; message: string };
  /** New text of a generation request (decoded; may be several tokens at once). */
  'generate.token': { requestId: string; index: number; text: string };
  'generate.done': {
    requestId: string;
    reason: 'eos' | 'length' | 'context' | 'cancelled' | 'error';
    /** The error in words when reason is `error`. */
    message: string | null;
    tokens: number;
    promptTokens: number;
    seconds: number;
    tokensPerSecond: number;
    device: string;
  };
}

export type EventName = keyof EventMap;

export interface EventEnvelope<E extends EventName = EventName> {
  event: E;
  payload: EventMap[E];
}

/** A subscription is undone by calling what `on` returned. */
export type Unsubscribe = () => void;

export interface EventSource {
  on<E extends EventName>(event: E, listener: (payload: EventMap[E]) => void): Unsubscribe;
}

export const eventNames: readonly EventName[] = [
  'system.hello', 'run.progress', 'run.status', 'run.decision', 'run.eval', 'run.metrics',
  'dataset.import.progress', 'model.import.progress', 'generate.token', 'generate.done',
];
