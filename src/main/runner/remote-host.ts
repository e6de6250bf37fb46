// The controller's side of the protocol for external trainers (src/shared/services/controller.ts):
// registers their runs in the store, runs the experiment loop for each on a RemoteTrainer whose
// calls become the trainer's tasks, and writes the run's rows through the same StoreSink as a local
// trainer process. A trainer that stops calling for longer than its lease, detaches, or is
// replaced by a new registration of the same run leaves the run interrupted; registering again
// with its id resumes it from its newest complete checkpoint, exactly as a local run resumes.
// Everything a trainer sends is checked against the task it answers; a bad report is refused in
// words and the task stays open, so nothing a trainer sends can stop the server or the run.
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { messageOf, NotFoundError, UserError } from '../../shared/errors';
import type { Handlers } from '../../shared/rpc';
import type { RunConfig } from '../../shared/run-config';
import {
  CONTROLLER_LIMITS, CONTROLLER_PROTOCOL, type ControllerContract, type ControllerPlan, type ControllerTask, type ParsedTaskResult, type RegisterReply, type ReportReply,
} from '../../shared/services/controller';
import { strategyLabel } from '../mixture/baselines';
import { planUpdates, regularEvalSteps, updateSteps } from '../mixture/schedule';
import type { MixtureSolver } from '../mixture/solver';
import type { CheckpointFiles } from '../store/checkpoints';
import type { Store } from '../store/index';
import { canResume } from '../store/lifecycle';
import type { RunStatus } from '../store/types';
import { RunCancelledError } from './context';
import { runExperiment } from './experiment';
import { PID_FILE, writePidFile } from './run-files';
import { newRunRows } from './run-rows';
import { fanOut } from './sink';
import type { LoopState } from './state';
import { StoreSink } from './store-sink';
import { SupervisorEvents, type SupervisorListener } from './supervisor-events';
import { checkReport, ControllerError, toRunConfig } from './remote-checks';
import { ChannelClosedError, RemoteTrainer, TaskChannel } from './remote-trainer';
import { rewindToLatestCheckpoint } from './rewind';

export { ControllerError } from './remote-checks';

/**
 * Every task of an external run with the report that answered it, one JSON line each, in the run's
 * folder: what the trainer measured, so the run's decisions can be replayed through the loop.
 */
export const CONTROLLER_LOG = 'controller.jsonl';

export const EXTERNAL_DEVICE = 'external';
export const EXTERNAL_TAG = 'external';

export interface RemoteRunHostOptions {
  store: Store;
  files: CheckpointFiles;
  solver: () => Promise<MixtureSolver>;
  /** Recorded as the runs' base folder (an external run has no files of ours to resolve). */
  baseDir: string;
  /** Training steps per train task (default 16): each is a round trip and a train-loss point. */
  chunkSteps?: number;
  /** How often leases and cancellations are checked (default 1000 ms). */
  checkEveryMs?: number;
  now?: () => number;
}

interface LiveRun {
  runId: number;
  session: string;
  config: RunConfig;
  channel: TaskChannel;
  leaseMs: number;
  lastSeen: number;
  /** `next` calls waiting for a task now: a trainer that waits is alive. */
  polls: number;
  cancel: AbortController;
  /** Settles when the loop has stopped and the run's status says why. */
  done: Promise<void>;
  /** Set once the loop stopped: what `next` answers from then on. */
  ended: { status: RunStatus; reason: string | null } | null;
}

/** The session of a run that ended here, kept so its trainer still hears how it ended. */
interface EndedRun {
  session: string;
  status: RunStatus;
  reason: string | null;
  step: number;
}

const SESSION_CHARS = 16;

/** The schedule the loop will follow (as runExperiment plans it). */
function planOf(config: RunConfig): ControllerPlan {
  const T = config.training.steps;
  const adaptive = config.strategy.kind === 'dynamics' || config.strategy.kind === 'gradient-alignment';
  return {
    updates: adaptive ? planUpdates(updateSteps(config.dynamics.schedule, T), T, config.dynamics.probeCap) : [{ step: 0, horizon: T, probeSteps: 0 }],
    evalSteps: regularEvalSteps(config.evaluation.interval, T),
  };
}

export class RemoteRunHost {
  private readonly live = new Map<number, LiveRun>();
  private readonly ended = new Map<number, EndedRun>();
  private readonly events = new SupervisorEvents();
  private readonly timer: NodeJS.Timeout;
  private readonly now: () => number;
  private closed = false;

  constructor(private readonly options: RemoteRunHostOptions) {
    this.now = options.now ?? Date.now;
    this.timer = setInterval(() => {
      try {
        this.checkLeases();
      } catch {
        // Checked again at the next tick; a timer that threw would stop the server.
      }
    }, options.checkEveryMs ?? 1000);
    this.timer.unref();
  }

  /** Loop events of every external run (the app's event bus listens, as it does to the supervisor). */
  subscribe(listener: SupervisorListener): () => void {
    return this.events.subscribe(listener);
  }

  /** The runs whose trainer is connected now. */
  activeRuns(): number[] {
    return [...this.live.keys()];
  }

  /** Settles when the run's loop has stopped (at once when none runs here). */
  async settled(runId: number): Promise<void> {
    await this.live.get(runId)?.done;
  }

  readonly handlers: Handlers<ControllerContract>['controller'] = {
    register: (input) => this.register(input),
    next: (input) => this.next(input.runId, input.session, input.waitSeconds),
    report: (input) => this.report(input.runId, input.session, input.seq, input.result),
    heartbeat: (input) => ({ status: this.endedFor(input.runId, input.session)?.status ?? this.touch(input.runId, input.session).ended?.status ?? 'running' }),
    detach: (input) => this.detach(input.runId, input.session, input.reason),
  };

  // ---------------------------------------------------------------- calls

  private async register(input: Parameters<Handlers<ControllerContract>['controller']['register']>[0]): Promise<RegisterReply> {
    if (this.closed) throw new UserError('the server is shutting down');
    if (input.protocol !== CONTROLLER_PROTOCOL) {
      throw new ControllerError('ProtocolMismatch', `this server speaks controller protocol ${CONTROLLER_PROTOCOL}; the client speaks ${input.protocol} (update the client or the app so they match)`);
    }
    const config = toRunConfig(input.config);
    const trainer = input.trainer ? `${input.trainer.name}${input.trainer.detail ? ` (${input.trainer.detail})` : ''}` : 'an external trainer';
    const leaseMs = 1000 * (input.leaseSeconds ?? CONTROLLER_LIMITS.lease.default);
    const { store, files } = this.options;
    let runId: number;
    let resumeFrom: number | null = null;
    const resumed = input.runId !== undefined;
    let state: LoopState | undefined;
    if (input.runId === undefined) {
      const [row] = newRunRows(config, { baseDir: this.options.baseDir, configFile: null, tags: [...new Set([EXTERNAL_TAG, ...(input.tags ?? [])])] });
      runId = store.runs.create({ ...row!, launch: { ...row!.launch!, external: { protocol: CONTROLLER_PROTOCOL, trainer } } });
      store.runs.start(runId, { device: EXTERNAL_DEVICE, reason: trainer });
    } else {
      runId = input.runId;
      let run;
      try {
        run = store.reader.get(runId);
      } catch (err) {
        if (err instanceof NotFoundError) throw new ControllerError('UnknownRun', `there is no run ${runId}`);
        throw err;
      }
      if (!run.launch?.external) throw new ControllerError('UnknownRun', `run ${runId} was not registered by an external trainer; it is trained by the app`);
      if (JSON.stringify(run.config) !== JSON.stringify(config)) {
        throw new ControllerError('InvalidInput', `the config differs from the one run ${runId} was registered with; a run continues with its own config (register a new run for a new config)`);
      }
      const previous = this.live.get(runId);
      if (previous) {
        // The trainer came back before its lease ran out: the old session's loop stops first.
        this.stop(previous, new ChannelClosedError('the trainer registered the run again'), 'interrupted', 'the trainer registered again (a new session replaced this one)');
        await previous.done;
      }
      run = store.reader.get(runId);
      if (run.status === 'running') store.runs.setStatus(runId, 'interrupted', 'the server that ran its controller stopped');
      run = store.reader.get(runId);
      if (!canResume(run.status)) {
        throw new ControllerError('WrongPhase', `run ${runId} is ${run.status}; only an interrupted, paused or failed run continues (register a new run instead)`);
      }
      const point = rewindToLatestCheckpoint(store, files, runId);
      store.runs.setDevice(runId, EXTERNAL_DEVICE, trainer);
      resumeFrom = point.step;
      if (point.step !== null) state = point.state as LoopState;
    }
    this.ended.delete(runId);
    const session = randomBytes(SESSION_CHARS).toString('hex');
    this.log(runId, { session: session.slice(0, 8), registered: { resumedFrom: resumeFrom, resumed, trainer } });
    this.begin(runId, session, config, leaseMs, state);
    return { protocol: CONTROLLER_PROTOCOL, runId, session, resumedFrom: resumeFrom, resumed, config, plan: planOf(config), leaseSeconds: leaseMs / 1000 };
  }

  private async next(runId: number, session: string, waitSeconds: number): Promise<ControllerTask> {
    const finished = this.finishedTask(runId, session);
    if (finished) return finished;
    const run = this.touch(runId, session);
    run.polls++;
    let task: ControllerTask | null;
    try {
      task = run.ended ? null : await run.channel.take(waitSeconds * 1000);
    } finally {
      run.polls--;
      run.lastSeen = this.now();
    }
    if (task) return task;
    return this.finishedTask(runId, session) ?? { seq: 0, step: 0, kind: 'wait' };
  }

  private report(runId: number, session: string, seq: number, result: ParsedTaskResult): ReportReply {
    // The run ended while the trainer worked on its task (cancelled in the app, say): nothing to
    // answer; its next `next` says how the run ended.
    if (this.endedFor(runId, session)) return { accepted: false };
    const run = this.touch(runId, session);
    const task = run.channel.current;
    if (!task || task.seq !== seq) {
      const now = task ? `task ${task.seq} (${task.kind}) is open` : 'no task is open';
      throw new ControllerError('WrongPhase', `task ${seq} is not waiting for a report; ${now}`);
    }
    checkReport(task, result, run.config);
    this.log(runId, { session: session.slice(0, 8), task, result });
    run.channel.answer(result);
    return { accepted: true };
  }

  private detach(runId: number, session: string, reason: string | undefined): { status: RunStatus } {
    const ended = this.endedFor(runId, session);
    if (ended) return { status: ended.status };
    const run = this.touch(runId, session);
    if (run.ended) return { status: run.ended.status };
    this.stop(run, new ChannelClosedError('the trainer detached'), 'interrupted', `the trainer detached${reason ? `: ${reason}` : ''}; it continues when the trainer registers run ${runId} again`);
    return { status: 'interrupted' };
  }

  private log(runId: number, entry: unknown): void {
    const dir = this.options.files.runFolder(runId);
    try {
      mkdirSync(dir, { recursive: true });
      appendFileSync(path.join(dir, CONTROLLER_LOG), `${JSON.stringify(entry)}\n`);
    } catch {
      // The log is for replay and diagnosis; the run's rows are the record.
    }
  }

  /** How the run of this session ended, when it has (its loop stopped, here or just now). */
  private endedFor(runId: number, session: string): { status: RunStatus; reason: string | null } | null {
    const live = this.live.get(runId);
    if (live && live.session === session) return live.ended;
    const ended = this.ended.get(runId);
    return ended?.session === session ? ended : null;
  }

  /** The live run of this session, its lease renewed; a refusal in words otherwise. */
  private touch(runId: number, session: string): LiveRun {
    const run = this.live.get(runId);
    if (!run || run.session !== session) {
      if (this.ended.get(runId)?.session === session) throw new ControllerError('StaleSession', `run ${runId} has ended (${this.ended.get(runId)!.status})`);
      let exists = false;
      try {
        exists = this.options.store.reader.get(runId).launch?.external != null;
      } catch {
        // No such run.
      }
      if (!exists) throw new ControllerError('UnknownRun', `there is no external run ${runId}`);
      throw new ControllerError('StaleSession', `run ${runId} has no session ${session.slice(0, 8)}… here (another registration replaced it, or the server restarted); register again with runId ${runId} to continue`);
    }
    run.lastSeen = this.now();
    return run;
  }

  /** A `finished` task for a session whose run ended, else null. */
  private finishedTask(runId: number, session: string): ControllerTask | null {
    const live = this.live.get(runId);
    if (live && live.session === session && live.ended) return { seq: 0, step: 0, kind: 'finished', ...live.ended };
    const ended = this.ended.get(runId);
    if ((!live || live.session !== session) && ended?.session === session) return { seq: 0, step: ended.step, kind: 'finished', status: ended.status, reason: ended.reason };
    return null;
  }

  // ---------------------------------------------------------------- the loop

  private begin(runId: number, session: string, config: RunConfig, leaseMs: number, resume: LoopState | undefined): void {
    const { store, files } = this.options;
    const channel = new TaskChannel();
    const cancel = new AbortController();
    const run: LiveRun = { runId, session, config, channel, leaseMs, lastSeen: this.now(), polls: 0, cancel, done: Promise.resolve(), ended: null };
    this.live.set(runId, run);
    // This process trains the run, as far as other processes can tell (`dynamics runs check`, the app's cancel).
    try {
      writePidFile(files.runFolder(runId), process.pid);
    } catch {
      // Best effort, as for a trainer process.
    }
    this.events.emit({ type: 'status', runId, status: 'running', reason: null });
    const sink = new StoreSink({ store, files, runId, config, resumed: resume !== undefined });
    const trainer = new RemoteTrainer(channel, sink.storage, {
      sources: config.sources.length,
      domainIds: config.domains.map((d) => d.id),
      batches: { regular: config.evaluation.regularBatches, probe: config.evaluation.probeBatches, test: config.evaluation.testBatches },
      step: resume?.step ?? 0,
    });
    const label = strategyLabel(config.strategy);
    // The store's rows only: the report (with the full history) is its `finished` event.
    const sinks = fanOut(sink);
    const loop = async (): Promise<void> => {
      const solver = await this.options.solver();
      const report = await runExperiment(config, trainer, solver, {
        onEvent: (e) => {
          sinks.event(label, e);
          if (e.type === 'decision') trainer.announce(e.decision);
          this.events.emit({ ...e, runId });
        },
        onState: (s) => sinks.state(label, s),
        signal: cancel.signal,
        progressChunkSteps: this.options.chunkSteps ?? 16,
        ...(resume ? { resume } : {}),
      });
      await sinks.end({ kind: 'single', report });
    };
    run.done = loop()
      .then(
        () => {
          const ended = store.reader.get(runId);
          this.finish(run, ended.status, ended.statusReason);
        },
        (err: unknown) => this.failed(run, sink, err),
      )
      // Last resort (the store refused even the reads): the session ends; the run's row says what it can.
      .catch((err: unknown) => this.finish(run, 'interrupted', messageOf(err)));
  }

  /** The loop threw: a stop asked for here, a cancel from the app, or an error of the run. */
  private failed(run: LiveRun, sink: StoreSink, err: unknown): void {
    const { store } = this.options;
    try {
      sink.flush();
    } catch {
      // Rows after the last checkpoint are deleted by a resume anyway.
    }
    let status: RunStatus = 'failed';
    let reason: string | null = messageOf(err);
    try {
      const current = store.reader.get(run.runId);
      if (current.status !== 'running') {
        // Cancelled (or otherwise ended) by the app: its status stands.
        status = current.status;
        reason = current.statusReason;
      } else if (err instanceof ChannelClosedError || err instanceof RunCancelledError) {
        status = run.ended?.status ?? 'interrupted';
        reason = run.ended?.reason ?? messageOf(err);
        store.runs.setStatus(run.runId, status, reason);
      } else {
        reason = `the controller stopped: ${messageOf(err)}`;
        store.runs.setStatus(run.runId, 'failed', reason);
      }
    } catch {
      // The store refused (a full disk): the run stays running with no session, which the next registration records as interrupted.
    }
    this.finish(run, status, reason);
  }

  private finish(run: LiveRun, status: RunStatus, reason: string | null): void {
    run.ended = { status, reason };
    run.channel.close(new ChannelClosedError(`run ${run.runId} ended (${status})`));
    if (this.live.get(run.runId) === run) {
      this.live.delete(run.runId);
      let step = 0;
      try {
        rmSync(path.join(this.options.files.runFolder(run.runId), PID_FILE), { force: true });
        step = this.options.store.reader.get(run.runId).lastStep ?? 0;
      } catch {
        // A deleted run or a refusing store: the session's end is all that matters here.
      }
      this.ended.set(run.runId, { session: run.session, status, reason, step });
    }
    this.events.emit({ type: 'status', runId: run.runId, status, reason });
  }

  /** Stops a live run's loop: the open task fails, the loop throws, `failed` records `status`. */
  private stop(run: LiveRun, err: Error, status: RunStatus, reason: string): void {
    if (run.ended || run.channel.closed) return;
    run.ended = { status, reason };
    run.cancel.abort();
    run.channel.close(err);
  }

  private checkLeases(): void {
    const now = this.now();
    for (const run of this.live.values()) {
      if (run.ended || run.channel.closed) continue;
      let status: RunStatus = 'running';
      try {
        status = this.options.store.reader.get(run.runId).status;
      } catch {
        // Deleted: stop below.
        status = 'cancelled';
      }
      if (status !== 'running') {
        this.stop(run, new ChannelClosedError(`run ${run.runId} was ${status} in the app`), status, `${status} in the app`);
      } else if (run.polls === 0 && now - run.lastSeen > run.leaseMs) {
        const s = Math.round(run.leaseMs / 1000);
        this.stop(run, new ChannelClosedError('the trainer stopped calling'), 'interrupted', `the trainer made no call for ${s} s; it continues when the trainer registers run ${run.runId} again`);
      }
    }
  }

  /** The server stops: every connected run is interrupted (resumable when its trainer registers again with a server). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    const runs = [...this.live.values()];
    for (const run of runs) this.stop(run, new ChannelClosedError('the server stopped'), 'interrupted', 'the server stopped; the run continues when its trainer registers it again');
    await Promise.all(runs.map((r) => r.done));
  }
}
