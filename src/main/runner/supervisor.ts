// RunSupervisor: starts and supervises trainer processes, one per running run (one supervisor
// per core: the app's, serve's, or a CLI command's). Each process writes its own run's rows to the
// store; the supervisor owns the lifecycle around it:
// - start: creates the rows (one run, or one per strategy of the baseline suite), marks the first
//   running and starts its process. A suite's runs go one after another, one process each: when a
//   run completes, the suite's next created run starts; a pause, a crash or a cancel stops the
//   chain (resuming that run continues it).
// - pause: the trainer checkpoints at the next safe point and exits (memory released), `paused`.
// - resume: the newest complete checkpoint whose file verifies (damaged ones skipped, and said
//   so), rows after it deleted in the transaction that marks the run running, files of dropped
//   checkpoints and temp files removed, then a new process continues from it.
// - cancel: the trainer stops at the next chunk; if it does not within the grace period it is
//   killed. `cancelled`.
// - a process that ends without a status of its own (killed, crashed, out of memory) leaves the
//   run `interrupted` with the reason in words; it is resumable.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../../shared/errors';
import type { RunConfig } from '../../shared/run-config';
import type { CheckpointFiles } from '../store/checkpoints';
import { RunStateError } from '../store/errors';
import type { Store } from '../store/index';
import { canResume } from '../store/lifecycle';
import type { RunStatus, RunSummary } from '../store/types';
import type { DeviceChoice } from '../engine/runtime-api';
import type { RunEvent } from './events';
import { describeExit, type ProcessExit, type ProcessLauncher, type TrainerProcess } from './process-launcher';
import { newRunRows } from './run-rows';
import { recordTwin, sameMixtureMember } from './suite-twins';
import { SupervisorEvents, type SupervisorEvent, type SupervisorEventOf, type SupervisorEventType, type SupervisorListener } from './supervisor-events';
import { liveTrainerPid, PID_FILE, writePidFile } from './run-files';
import { isChildMessage, type ChildMessage, type TrainerEngineDirs, type TrainerJob } from './trainer-protocol';
import { rewindToLatestCheckpoint } from './rewind';

export interface RunSupervisorOptions {
  /** This process's connection (the app's, the CLI's): lifecycle writes and reads. */
  store: Store;
  /** The runs folder beside the database. */
  files: CheckpointFiles;
  launcher: ProcessLauncher;
  engine: TrainerEngineDirs;
  appVersion: string;
  /** Where a config given without a file resolves relative paths (the UI passes absolute ones). */
  defaultBaseDir?: string;
  /** How long a cancelled trainer may take to stop at its next chunk before it is killed (default 30 s). */
  cancelGraceMs?: number;
  /** Training steps between progress events (default 16). */
  progressChunkSteps?: number;
  /** How often a trainer commits buffered metrics, at least (default 1000 ms; also at every checkpoint). */
  flushIntervalMs?: number;
  /** A listener that threw (logged by the app; the other listeners still get the event). */
  onListenerError?: (err: unknown) => void;
}

export interface StartOptions {
  /** The folder the config's relative paths resolve against (the config file's). */
  baseDir?: string;
  configFile?: string | null;
  /** DynaMiCS and the fixed baselines, one run each, one after another. */
  suite?: boolean;
  tags?: readonly string[];
}

/** A run whose trainer process is alive. */
export interface ActiveRun {
  runId: number;
  pid: number | undefined;
  /** What was asked of it, if anything. */
  stopping: 'pause' | 'cancel' | 'kill' | null;
  device: DeviceChoice | null;
  /** The latest progress event. */
  progress: Extract<RunEvent, { type: 'progress' }> | null;
  startedAt: number;
}

interface Supervised extends ActiveRun {
  process: TrainerProcess;
  error: Extract<ChildMessage, { type: 'error' }> | null;
  output: string;
  ended: Promise<RunStatus>;
  end: (status: RunStatus) => void;
  killTimer: NodeJS.Timeout | null;
}

const OUTPUT_KEPT = 8192;

export class RunSupervisor {
  private readonly events: SupervisorEvents;
  private readonly running = new Map<number, Supervised>();
  private idleWaiters: (() => void)[] = [];
  /** The sources' sizes in tokens, by suite key, as a trainer of the suite reported them. */
  private readonly suiteSizes = new Map<string, number[]>();
  private closed = false;

  constructor(private readonly options: RunSupervisorOptions) {
    this.events = new SupervisorEvents(options.onListenerError);
  }

  // ---------------------------------------------------------------- events

  /** Every event of every run; returns the unsubscribe function. */
  subscribe(listener: SupervisorListener): () => void {
    return this.events.subscribe(listener);
  }

  /** Events of one type, optionally of one run, typed. */
  on<T extends SupervisorEventType>(type: T, listener: (event: SupervisorEventOf<T>) => void, runId?: number): () => void {
    return this.events.on(type, listener, runId);
  }

  private emit(event: SupervisorEvent): void {
    this.events.emit(event);
  }

  private emitStatus(runId: number): RunSummary | null {
    try {
      const run = this.options.store.reader.get(runId);
      this.emit({ type: 'status', runId, status: run.status, reason: run.statusReason });
      return run;
    } catch {
      return null;
    }
  }

  // ---------------------------------------------------------------- queries

  /** Runs whose trainer process is alive in this supervisor. */
  active(): ActiveRun[] {
    return [...this.running.values()].map((r) => this.publicView(r));
  }

  /** The stored run and, while its process lives, what that process is doing. */
  status(runId: number): { run: RunSummary; active: ActiveRun | null } {
    const run = this.options.store.reader.get(runId);
    const live = this.running.get(runId);
    return { run, active: live ? this.publicView(live) : null };
  }

  private publicView(r: Supervised): ActiveRun {
    return { runId: r.runId, pid: r.pid, stopping: r.stopping, device: r.device, progress: r.progress, startedAt: r.startedAt };
  }

  /** Resolves with the run's status once its process ends (at once when none runs it). */
  wait(runId: number): Promise<RunStatus> {
    const live = this.running.get(runId);
    return live ? live.ended : Promise.resolve(this.options.store.reader.get(runId).status);
  }

  /** Resolves when no trainer process runs and no suite has a next run to start. */
  whenIdle(): Promise<void> {
    if (this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** The process that trains a run according to its pid file, when that process is alive. */
  liveOwner(runId: number): number | null {
    return this.running.get(runId)?.pid ?? liveTrainerPid(this.options.files.runFolder(runId));
  }

  // ---------------------------------------------------------------- control

  /** Creates the run (or the suite's runs), starts the first, and returns their ids in order. */
  start(config: RunConfig, options: StartOptions = {}): number[] {
    this.checkOpen();
    const rows = newRunRows(config, {
      baseDir: path.resolve(options.baseDir ?? this.options.defaultBaseDir ?? process.cwd()),
      configFile: options.configFile ?? null,
      suite: options.suite === true,
      tags: options.tags ?? [],
    });
    const { runs } = this.options.store;
    const ids = this.options.store.db.transaction(() => rows.map((row) => runs.create(row)))();
    for (const id of ids) this.emitStatus(id);
    this.launchFresh(ids[0]!);
    return ids;
  }

  /** Asks the trainer to checkpoint at its next safe point and exit; resolves with the status it left. */
  async pause(runId: number): Promise<RunStatus> {
    const live = this.running.get(runId);
    if (!live) {
      const run = this.options.store.reader.get(runId);
      throw new RunStateError(`run ${runId} is ${run.status}; only a running run can be paused`);
    }
    if (live.stopping === null) {
      live.stopping = 'pause';
      live.process.send({ type: 'pause' });
    }
    return live.ended;
  }

  /**
   * Continues a paused, interrupted or failed run from its newest complete checkpoint (or a
   * created one from the start); resolves once its process is started. A run marked running that
   * no live process trains (the app or the machine stopped) is recorded as interrupted first.
   */
  async resume(runId: number): Promise<void> {
    this.checkOpen();
    if (this.running.has(runId)) throw new RunStateError(`run ${runId} is already running`);
    const { store, files } = this.options;
    let run = store.reader.get(runId);
    if (run.launch?.external) throw new RunStateError(`run ${runId} is trained by an external trainer (${run.launch.external.trainer}); it continues when that trainer registers it again with its run id`);
    if (run.status === 'running') {
      const owner = this.liveOwner(runId);
      if (owner !== null) throw new RunStateError(`run ${runId} is running in another process (pid ${owner}); pause or cancel it there`);
      store.runs.setStatus(runId, 'interrupted', 'the process training it stopped without recording why (the app or the machine stopped)');
      run = store.reader.get(runId);
    }
    if (run.status === 'created') {
      this.launchFresh(runId);
      return;
    }
    if (!canResume(run.status)) throw new RunStateError(`run ${runId} is ${run.status}; only a run that is paused, interrupted or failed can be resumed`);
    const point = rewindToLatestCheckpoint(store, files, runId);
    this.emitStatus(runId);
    this.launch(runId, { step: point.step });
  }

  /**
   * Stops a run for good: a running one at its next chunk (killed after the grace period), a
   * stopped one at once. A suite's runs that have not started are cancelled with it.
   */
  async cancel(runId: number): Promise<RunStatus> {
    const { store } = this.options;
    const live = this.running.get(runId);
    let status: RunStatus;
    if (live) {
      if (live.stopping !== 'cancel') {
        live.stopping = 'cancel';
        live.process.send({ type: 'cancel' });
        live.killTimer = setTimeout(() => live.process.kill('SIGKILL'), this.options.cancelGraceMs ?? 30_000);
      }
      status = await live.ended;
    } else {
      const run = store.reader.get(runId);
      if (run.status === 'running' && this.liveOwner(runId) !== null) throw new RunStateError(`run ${runId} is running in another process (pid ${this.liveOwner(runId)}); cancel it there`);
      store.runs.setStatus(runId, 'cancelled', 'cancelled by the user');
      this.emitStatus(runId);
      status = 'cancelled';
    }
    this.cancelRestOfSuite(runId);
    return status;
  }

  /**
   * Stops a run's process at once (a second Ctrl-C): the run is interrupted, and a resume redoes
   * the work since its last checkpoint.
   */
  async kill(runId: number): Promise<RunStatus> {
    const live = this.running.get(runId);
    if (!live) throw new RunStateError(`run ${runId} has no trainer process in this session`);
    live.stopping = 'kill';
    live.process.kill('SIGKILL');
    return live.ended;
  }

  /** Pauses every running run and waits for their processes (the app quitting, serve stopping). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.running.keys()].map((id) => this.pause(id).catch(() => undefined)));
  }

  private checkOpen(): void {
    if (this.closed) throw new UserError('the run supervisor is shutting down');
  }

  // ---------------------------------------------------------------- processes

  private launchFresh(runId: number): void {
    this.options.store.runs.start(runId, null);
    this.emitStatus(runId);
    this.launch(runId, null);
  }

  private launch(runId: number, resume: TrainerJob['resume']): void {
    const { store, files, engine, appVersion } = this.options;
    const job: TrainerJob = {
      runId,
      dbFile: store.file,
      runsDir: files.runsDir,
      appVersion,
      resume,
      engine,
      ...(this.options.progressChunkSteps ? { progressChunkSteps: this.options.progressChunkSteps } : {}),
      ...(this.options.flushIntervalMs !== undefined ? { flushIntervalMs: this.options.flushIntervalMs } : {}),
    };
    let end!: (status: RunStatus) => void;
    const ended = new Promise<RunStatus>((resolve) => (end = resolve));
    let child: TrainerProcess;
    try {
      child = this.options.launcher.launch({ runId });
    } catch (err) {
      store.runs.setStatus(runId, 'interrupted', describeExit({ code: null, signal: null, error: err instanceof Error ? err.message : String(err) }));
      this.emitStatus(runId);
      throw err;
    }
    const live: Supervised = {
      runId, pid: child.pid, stopping: null, device: null, progress: null, startedAt: Date.now(),
      process: child, error: null, output: '', ended, end, killTimer: null,
    };
    this.running.set(runId, live);
    // The pid file at once (the child rewrites it): another supervisor must not take this run
    // for an orphan while its process is still loading.
    if (child.pid !== undefined) {
      try {
        writePidFile(files.runFolder(runId), child.pid, live.startedAt);
      } catch {
        // Best effort: the child writes it too.
      }
    }
    child.onMessage((m) => this.onMessage(live, m));
    child.onOutput((text) => {
      live.output = (live.output + text).slice(-OUTPUT_KEPT);
      this.emit({ type: 'output', runId, text });
    });
    child.onExit((exit) => this.onExit(live, exit));
    child.send({ type: 'start', job });
  }

  private onMessage(live: Supervised, message: unknown): void {
    if (!isChildMessage(message)) return;
    const { runId } = live;
    switch (message.type) {
      case 'preparing':
        this.emit({ type: 'preparing', runId, message: message.message });
        break;
      case 'ready': {
        live.device = message.device;
        const key = this.options.store.reader.get(runId).launch?.suite?.key;
        if (key) this.suiteSizes.set(key, message.sourceSizes);
        this.emit({ type: 'device', runId, device: message.device.device, reason: message.device.reason });
        break;
      }
      case 'event':
        if (message.event.type === 'progress') live.progress = message.event;
        this.emit({ ...message.event, runId } as SupervisorEvent);
        break;
      case 'error':
        live.error = message;
        break;
      case 'done':
        break;
    }
  }

  /** The process ended: make sure the run's status says why, then continue its suite if it completed. */
  private onExit(live: Supervised, exit: ProcessExit): void {
    const { runId } = live;
    const { store } = this.options;
    if (live.killTimer) clearTimeout(live.killTimer);
    this.running.delete(runId);
    rmSync(path.join(this.options.files.runFolder(runId), PID_FILE), { force: true });
    let status: RunStatus = 'interrupted';
    try {
      status = store.reader.get(runId).status;
      if (status === 'running') {
        if (live.stopping === 'cancel') {
          store.runs.setStatus(runId, 'cancelled', 'cancelled by the user (the trainer process was stopped)');
          status = 'cancelled';
        } else if (live.stopping === 'kill') {
          store.runs.setStatus(runId, 'interrupted', 'stopped at once by the user; a resume redoes the steps since the last checkpoint');
          status = 'interrupted';
        } else if (live.error) {
          store.runs.setStatus(runId, live.error.status, live.error.message);
          status = live.error.status;
        } else {
          store.runs.setStatus(runId, 'interrupted', describeExit(exit, live.output));
          status = 'interrupted';
        }
      }
    } catch (err) {
      // The store refused (a full disk here too): the run stays `running` with no process, which
      // the next resume records as interrupted. Say so to whoever listens.
      this.emit({ type: 'output', runId, text: `could not record how run ${runId} ended: ${err instanceof Error ? err.message : String(err)}\n` });
    }
    this.emitStatus(runId);
    if (status === 'completed' && !this.closed) this.continueSuite(runId);
    live.end(status);
    if (this.running.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** After a suite's run completed: start the suite's next run that was never started. */
  private continueSuite(runId: number): void {
    const { store } = this.options;
    const key = store.reader.get(runId).launch?.suite?.key;
    if (!key) return;
    if (store.reader.suiteMembers(key).some((m) => this.running.has(m.id))) return;
    for (;;) {
      const next = store.reader.suiteMembers(key).find((m) => m.status === 'created');
      if (!next) return;
      try {
        // A baseline with the same mixture as one already trained needs no process of its own.
        const run = store.reader.get(next.id);
        const twin = sameMixtureMember(store, run, run.config as RunConfig, this.suiteSizes.get(key));
        if (twin) {
          recordTwin(store, next.id, twin);
          this.emitStatus(next.id);
          continue;
        }
        this.launchFresh(next.id);
      } catch (err) {
        this.emit({ type: 'output', runId: next.id, text: `could not start run ${next.id}: ${err instanceof Error ? err.message : String(err)}\n` });
      }
      return;
    }
  }

  private cancelRestOfSuite(runId: number): void {
    const { store } = this.options;
    const key = store.reader.get(runId).launch?.suite?.key;
    if (!key) return;
    for (const m of store.reader.suiteMembers(key)) {
      if (m.status !== 'created') continue;
      store.runs.setStatus(m.id, 'cancelled', `run ${runId} of the same suite was cancelled`);
      this.emitStatus(m.id);
    }
  }
}
