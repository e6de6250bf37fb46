// What the run supervisor reports to its subscribers, as plain data: lifecycle changes, what a
// trainer process is preparing, the device it chose, every event of the experiment loop tagged
// with its run, and the process's own output. The app forwards these to the UI's event bus; the
// CLI draws its progress bar from them.
import type { RunStatus } from '../store/types';
import type { RunEvent } from './events';

export type SupervisorEvent =
  | { type: 'status'; runId: number; status: RunStatus; reason: string | null }
  | { type: 'preparing'; runId: number; message: string }
  | { type: 'device'; runId: number; device: string; reason: string }
  /** What the trainer process wrote to stdout/stderr (warnings of native libraries, a crash's last words). */
  | { type: 'output'; runId: number; text: string }
  /** The loop's events: started, progress, references, decision, train, eval, checkpoint, backtrack, finished. */
  | (RunEvent & { runId: number });

export type SupervisorEventType = SupervisorEvent['type'];
export type SupervisorEventOf<T extends SupervisorEventType> = Extract<SupervisorEvent, { type: T }>;
export type SupervisorListener = (event: SupervisorEvent) => void;

/** A set of listeners; one that throws is reported and does not stop the others. */
export class SupervisorEvents {
  private readonly listeners = new Set<SupervisorListener>();

  constructor(private readonly onListenerError: (err: unknown) => void = () => {}) {}

  /** Every event; returns the function that unsubscribes. */
  subscribe(listener: SupervisorListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Events of one type (and optionally one run), typed. */
  on<T extends SupervisorEventType>(type: T, listener: (event: SupervisorEventOf<T>) => void, runId?: number): () => void {
    return this.subscribe((e) => {
      if (e.type === type && (runId === undefined || e.runId === runId)) listener(e as SupervisorEventOf<T>);
    });
  }

  emit(event: SupervisorEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(event);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }
}
