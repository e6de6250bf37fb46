// A trainer process that is an Electron utility process, seen as the supervisor's TrainerProcess:
// messages by postMessage, the exit by code only (no signal), the last words read before the exit
// is reported. Imports no electron at run time, so it is tested with a stand-in child.
import type { ProcessExit, TrainerProcess } from '../runner/process-launcher';
import type { ParentMessage } from '../runner/trainer-protocol';

/** The part of Electron's UtilityProcess the adapter uses (so it can be tested without Electron). */
export interface UtilityChild {
  readonly pid: number | undefined;
  readonly stdout: NodeJS.ReadableStream | null;
  readonly stderr: NodeJS.ReadableStream | null;
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  on(event: 'error', listener: (type: string, location: string) => void): unknown;
  kill(): boolean;
}

/** A TrainerProcess over a utility process: messages by postMessage, exit by code only (no signal). */
export class UtilityProcessTrainer implements TrainerProcess {
  private exitListeners: ((exit: ProcessExit) => void)[] = [];
  private exit: ProcessExit | null = null;
  private fatal: string | null = null;
  private pendingOutput = 0;
  private exitCode: number | null = null;
  private exited = false;

  constructor(
    private readonly child: UtilityChild,
    /** Handed to the trainer in its job: the utility process needs better-sqlite3's Electron build too. */
    private readonly sqliteNativeBinding?: string,
  ) {
    child.on('error', (type, location) => (this.fatal = `${type} at ${location}`));
    child.on('exit', (code) => {
      this.exited = true;
      this.exitCode = code;
      this.maybeFinish();
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Reports the exit once both output streams ended, so the last words are in (as 'close' does for fork). */
  private maybeFinish(): void {
    if (!this.exited || this.pendingOutput > 0 || this.exit) return;
    this.exit = this.fatal ? { code: this.exitCode, signal: null, error: `the trainer process hit a fatal V8 error (${this.fatal})` } : { code: this.exitCode, signal: null };
    for (const l of this.exitListeners) l(this.exit);
    this.exitListeners = [];
  }

  send(message: ParentMessage): void {
    if (this.exited) return;
    const out = message.type === 'start' && this.sqliteNativeBinding ? { ...message, job: { ...message.job, sqliteNativeBinding: this.sqliteNativeBinding } } : message;
    try {
      this.child.postMessage(out);
    } catch {
      // The process is gone; its exit is reported on its own.
    }
  }

  onMessage(listener: (message: unknown) => void): void {
    this.child.on('message', listener);
  }

  onOutput(listener: (text: string) => void): void {
    for (const stream of [this.child.stdout, this.child.stderr]) {
      if (!stream) continue;
      this.pendingOutput++;
      stream.on('data', (d: Buffer) => listener(d.toString()));
      stream.on('end', () => {
        this.pendingOutput--;
        this.maybeFinish();
      });
    }
  }

  onExit(listener: (exit: ProcessExit) => void): void {
    if (this.exit) listener(this.exit);
    else this.exitListeners.push(listener);
  }

  kill(): void {
    if (!this.exited) this.child.kill();
  }
}

