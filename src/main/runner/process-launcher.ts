// How the supervisor starts a trainer process, behind a small interface: the CLI and serve fork a
// Node child (ForkProcessLauncher); the Electron app plugs in a utilityProcess launcher of its own
// (src/main/app), since only that folder may import electron. Also: where the trainer entry file
// is (the built out/main/trainer.js, or the TypeScript source under tsx in tests), and a crash in
// words from an exit code, a signal and the last lines the process wrote.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ParentMessage } from './trainer-protocol';

export interface ProcessExit {
  /** The exit code, or null when a signal ended it. */
  code: number | null;
  /** The signal that ended it (fork only; a utility process reports codes only). */
  signal: string | null;
  /** The process could not be started at all. */
  error?: string;
}

/** One running trainer process, as the supervisor sees it. */
export interface TrainerProcess {
  readonly pid: number | undefined;
  send(message: ParentMessage): void;
  onMessage(listener: (message: unknown) => void): void;
  /** Text the process writes to stdout or stderr (ORT warnings, a native crash's last words). */
  onOutput(listener: (text: string) => void): void;
  /** Once, after the process ended and its output was read. */
  onExit(listener: (exit: ProcessExit) => void): void;
  /** Stops it now (cancel after the grace period, tests' kill -9). */
  kill(signal?: NodeJS.Signals): void;
}

export interface LaunchRequest {
  runId: number;
}

export interface ProcessLauncher {
  launch(request: LaunchRequest): TrainerProcess;
}

/** A TrainerProcess over a Node ChildProcess started with an IPC channel. */
export class ChildProcessTrainer implements TrainerProcess {
  private exitListeners: ((exit: ProcessExit) => void)[] = [];
  private exit: ProcessExit | null = null;

  constructor(private readonly child: ChildProcess) {
    child.on('error', (err) => this.finish({ code: null, signal: null, error: err.message }));
    // 'close' comes after 'exit' once stdout and stderr are drained: the last words are in.
    child.on('close', (code, signal) => this.finish({ code, signal }));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private finish(exit: ProcessExit): void {
    if (this.exit) return;
    this.exit = exit;
    for (const l of this.exitListeners) l(exit);
    this.exitListeners = [];
  }

  send(message: ParentMessage): void {
    if (!this.child.connected) return;
    try {
      this.child.send(message);
    } catch {
      // The child is gone; its exit is reported on its own.
    }
  }

  onMessage(listener: (message: unknown) => void): void {
    this.child.on('message', listener);
  }

  onOutput(listener: (text: string) => void): void {
    this.child.stdout?.on('data', (d: Buffer) => listener(d.toString()));
    this.child.stderr?.on('data', (d: Buffer) => listener(d.toString()));
  }

  onExit(listener: (exit: ProcessExit) => void): void {
    if (this.exit) listener(this.exit);
    else this.exitListeners.push(listener);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }
}

export interface TrainerEntry {
  /** The script to run. */
  file: string;
  /** Node options it needs (tsx for the TypeScript source). */
  execArgv: string[];
}

/**
 * The trainer entry beside this code: out/main/trainer.js in a build (the bundle may put this
 * code in a chunk one folder down), else src/main/runner/trainer-process.ts run under tsx.
 */
export function defaultTrainerEntry(from: string = import.meta.url): TrainerEntry {
  const here = path.dirname(fileURLToPath(from));
  for (const dir of [here, path.dirname(here)]) {
    const built = path.join(dir, 'trainer.js');
    if (existsSync(built)) return { file: built, execArgv: [] };
  }
  const source = path.join(here, 'trainer-process.ts');
  if (existsSync(source)) return { file: source, execArgv: ['--import', 'tsx'] };
  throw new Error(`cannot find the trainer entry (trainer.js) near ${here}`);
}

export interface ForkLauncherOptions {
  entry?: TrainerEntry;
  env?: NodeJS.ProcessEnv;
}

/** Trainer processes as Node children with an IPC channel (`child_process.fork`). */
export class ForkProcessLauncher implements ProcessLauncher {
  private readonly entry: TrainerEntry;

  constructor(private readonly options: ForkLauncherOptions = {}) {
    this.entry = options.entry ?? defaultTrainerEntry();
  }

  launch(): TrainerProcess {
    const child = fork(this.entry.file, [], {
      execArgv: this.entry.execArgv,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: this.options.env ?? process.env,
      serialization: 'json',
    });
    return new ChildProcessTrainer(child);
  }
}

const SIGNAL_WORDS: Record<string, string> = {
  SIGKILL: 'the trainer process was killed by SIGKILL (by a user, or by the system when memory ran out)',
  SIGSEGV: 'the trainer process crashed (SIGSEGV: a fault in native code)',
  SIGBUS: 'the trainer process crashed (SIGBUS: a fault in native code or a file mapped from a vanished disk)',
  SIGABRT: 'the trainer process aborted (SIGABRT)',
  SIGTERM: 'the trainer process was stopped by SIGTERM before it could pause',
  SIGINT: 'the trainer process was interrupted by SIGINT',
  SIGHUP: 'the trainer process lost its terminal (SIGHUP)',
  SIGXFSZ: 'the trainer process hit the file-size limit (SIGXFSZ)',
};

const OUT_OF_MEMORY = [/heap out of memory/i, /Allocation failed/i, /std::bad_alloc/, /out of memory/i, /CUDA_ERROR_OUT_OF_MEMORY|cudaErrorMemoryAllocation/i];

/** The last non-empty line of what a process wrote, trimmed to a sentence's length. */
function lastLine(output: string): string | null {
  const line = output.split('\n').map((l) => l.trim()).filter((l) => l.length > 0).at(-1);
  return line ? line.slice(0, 300) : null;
}

/** Why a trainer process ended without saying so itself, in words (the run's `interrupted` reason). */
export function describeExit(exit: ProcessExit, output = ''): string {
  if (exit.error) return `the trainer process could not be started (${exit.error})`;
  if (OUT_OF_MEMORY.some((re) => re.test(output))) {
    const how = exit.signal ? ` and was ended by ${exit.signal}` : exit.code !== null ? ` and exited with code ${exit.code}` : '';
    return `the trainer process ran out of memory${how}`;
  }
  const last = lastLine(output);
  const tail = last ? `; its last words: ${last}` : '';
  if (exit.signal) return `${SIGNAL_WORDS[exit.signal] ?? `the trainer process was ended by ${exit.signal}`}${exit.signal === 'SIGKILL' ? '' : tail}`;
  if (exit.code === 0) return 'the trainer process exited without finishing the run';
  return `the trainer process exited with code ${exit.code ?? 'unknown'}${tail}`;
}
