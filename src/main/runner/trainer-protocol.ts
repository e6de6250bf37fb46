// The messages between the supervisor and a trainer process, as plain JSON-safe data. One
// process trains one run: the parent sends `start` with the job, then at most `pause` or `cancel`;
// the child reports what it prepares, its device, every loop event, and how it ended. The rows
// themselves go to SQLite, written by the child; messages are only for live display.
//
//   parent                                   child
//   start {job}            ───────────────►  opens the store, loads model and data
//                          ◄───────────────  preparing {message}…, ready {device, sourceSizes}
//                          ◄───────────────  event {RunEvent}… (progress, decisions, evals…)
//   pause | cancel         ───────────────►  stops at the next safe point
//                          ◄───────────────  done {outcome, step} | error {message, status}
//                                            exit code 0 (done), 3 (error), anything else: a crash
import type { DeviceChoice } from '../engine/runtime-api';
import type { RunEvent } from './events';

export interface TrainerEngineDirs {
  /** Compiled graphs (the data directory's cache/graphs). */
  graphCacheDir: string;
  /** Token shards (cache/tokens). */
  tokenCacheDir: string;
  /** Imported datasets. */
  datasetsDir?: string;
  /** Bundled resources (corpora/, models/). */
  resourcesDir: string;
  /** ONNX Runtime intra-op threads (default: physical cores). */
  threads?: number;
}

export interface TrainerJob {
  runId: number;
  /** The SQLite file the run lives in. */
  dbFile: string;
  /** The runs folder beside it: checkpoints go to RUNS/<id>/checkpoints. */
  runsDir: string;
  appVersion: string;
  /**
   * The parent marked the run running before starting this process. null: a fresh start. Else a
   * resume from the complete checkpoint at `step` (null: from the beginning, none having been
   * saved), every row after it deleted.
   */
  resume: { step: number | null } | null;
  engine: TrainerEngineDirs;
  /** Training steps between progress events (default 16). */
  progressChunkSteps?: number;
  /**
   * better-sqlite3's addon to load instead of node_modules' Node build: the desktop app's trainer
   * runs in an Electron utility process, which needs the build for Electron's ABI.
   */
  sqliteNativeBinding?: string;
  /** Buffered metrics are committed at least this often (default 1000 ms) and at every checkpoint. */
  flushIntervalMs?: number;
}

export type ParentMessage = { type: 'start'; job: TrainerJob } | { type: 'pause' } | { type: 'cancel' };

export type TrainerOutcome = 'completed' | 'paused' | 'cancelled';

export type ChildMessage =
  | { type: 'preparing'; message: string }
  | { type: 'ready'; device: DeviceChoice; sourceSizes: number[] }
  | { type: 'event'; event: RunEvent }
  | { type: 'done'; outcome: TrainerOutcome; step: number | null; reason: string | null }
  | {
      type: 'error';
      /** The error's class name (DiskFull, UserError…). */
      name: string;
      /** One sentence for the user. */
      message: string;
      /** The status the run should get: `interrupted` when retrying can succeed (a full disk), else `failed`. */
      status: 'interrupted' | 'failed';
    };

/** The child's exit codes besides a crash. */
export const TRAINER_EXIT = { done: 0, error: 3 } as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** Checks the shape of a message from a child (a bundled child of another version, a stray send). */
export function isChildMessage(value: unknown): value is ChildMessage {
  if (!isObject(value) || typeof value.type !== 'string') return false;
  switch (value.type) {
    case 'preparing':
      return typeof value.message === 'string';
    case 'ready':
      return isObject(value.device) && Array.isArray(value.sourceSizes);
    case 'event':
      return isObject(value.event) && typeof value.event.type === 'string';
    case 'done':
      return value.outcome === 'completed' || value.outcome === 'paused' || value.outcome === 'cancelled';
    case 'error':
      return typeof value.message === 'string' && (value.status === 'interrupted' || value.status === 'failed');
    default:
      return false;
  }
}

export function isParentMessage(value: unknown): value is ParentMessage {
  if (!isObject(value)) return false;
  if (value.type === 'pause' || value.type === 'cancel') return true;
  return value.type === 'start' && isObject(value.job) && typeof value.job.runId === 'number' && typeof value.job.dbFile === 'string';
}
