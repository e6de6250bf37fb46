// The run lifecycle as data: which status may follow which. Pure, so the UI can grey out buttons
// with the same table the store enforces.
//
//   created ──start──▶ running ──▶ paused | interrupted | completed | failed | cancelled
//   paused | interrupted | failed ──resume──▶ running      (rows after the checkpoint are deleted)
//   created | paused | interrupted | failed ──▶ cancelled
//   completed and cancelled are final.
import type { RunStatus } from './types';

const NEXT: Record<RunStatus, readonly RunStatus[]> = {
  created: ['running', 'failed', 'cancelled'],
  running: ['paused', 'interrupted', 'completed', 'failed', 'cancelled'],
  paused: ['cancelled'],
  interrupted: ['failed', 'cancelled'],
  failed: ['cancelled'],
  completed: [],
  cancelled: [],
};

/** Statuses a run may be resumed from (back to running, from a checkpoint). */
export const RESUMABLE: readonly RunStatus[] = ['paused', 'interrupted', 'failed'];

/** Statuses that end a run for good or for now; they stamp finished_at. */
export const FINISHING: readonly RunStatus[] = ['completed', 'failed', 'cancelled'];

/** A status change other than a resume. */
export function canTransition(from: RunStatus, to: RunStatus): boolean {
  return NEXT[from].includes(to);
}

export function allowedSources(to: RunStatus): RunStatus[] {
  return (Object.keys(NEXT) as RunStatus[]).filter((from) => NEXT[from].includes(to));
}

export function canResume(from: RunStatus): boolean {
  return RESUMABLE.includes(from);
}

/** Whether a trainer process may be writing this run right now. */
export function isActive(status: RunStatus): boolean {
  return status === 'running';
}
