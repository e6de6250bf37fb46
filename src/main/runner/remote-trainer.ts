// The Trainer of a run whose model lives in another program (an external PyTorch trainer): every
// call the experiment loop makes becomes a task handed to that program through a TaskChannel, and
// its report is the call's answer. So the loop that decides is the loop of a local run, unchanged.
// Snapshots are the trainer's business: a probe task asks it to train, evaluate and put its state
// back in one go, so `snapshot`, `restore` and `release` only delimit the probes of one update.
// Checkpoints are the trainer's files; the run store keeps a small record of each (the trainer's
// own name for it), so resume and selection work as for any run.
import type { ControllerTask, ParsedTaskResult, TaskDecision } from '../../shared/services/controller';
import { weightedMeanAndStdError } from '../mixture/slopes';
import type { CheckpointStorage } from './checkpoint-storage';
import type { DecisionRecord } from './events';
import type { CheckpointRef, DomainLosses, EvalSplit, RestoreScope, Trainer, TrainerInfo, TrainerSnapshot, TrainRequest, TrainStats } from './trainer';

/** A task without the fields the channel fills in. */
export type TaskRequest = ControllerTask extends infer T ? (T extends ControllerTask ? Omit<T, 'seq'> : never) : never;

/** Why a channel stopped: the run is no longer trained through it. */
export class ChannelClosedError extends Error {
  override name = 'ChannelClosed';
}

interface Outstanding {
  task: ControllerTask;
  resolve: (result: ParsedTaskResult) => void;
  reject: (err: Error) => void;
}

/**
 * One task at a time between the loop (which posts and awaits) and the remote trainer (which takes
 * and reports). Taking is idempotent: until its report arrives, the same task is handed out again
 * (a client that lost a reply asks again and gets the same task).
 */
export class TaskChannel {
  private seq = 0;
  private outstanding: Outstanding | null = null;
  private waiters: (() => void)[] = [];
  private closedWith: Error | null = null;

  /** Hands a task to the remote side and resolves with its report. */
  post(request: TaskRequest): Promise<ParsedTaskResult> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    if (this.outstanding) return Promise.reject(new Error(`task ${this.outstanding.task.seq} is still outstanding`));
    const task = { ...request, seq: ++this.seq } as ControllerTask;
    return new Promise((resolve, reject) => {
      this.outstanding = { task, resolve, reject };
      this.wake();
    });
  }

  /** The outstanding task, or null once `waitMs` passed without one. */
  async take(waitMs: number): Promise<ControllerTask | null> {
    const deadline = Date.now() + waitMs;
    while (!this.outstanding && !this.closedWith) {
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        const waiters = this.waiters;
        function done(): void {
          clearTimeout(timer);
          const k = waiters.indexOf(done);
          if (k >= 0) waiters.splice(k, 1);
          resolve();
        }
        waiters.push(done);
      });
    }
    return this.outstanding?.task ?? null;
  }

  /** The task awaiting a report, if any. */
  get current(): ControllerTask | null {
    return this.outstanding?.task ?? null;
  }

  /** Answers the outstanding task (the caller checked that `result` fits it). */
  answer(result: ParsedTaskResult): void {
    const o = this.outstanding;
    if (!o) throw new Error('no task is outstanding');
    this.outstanding = null;
    o.resolve(result);
  }

  /** No more tasks: the outstanding one, and every later post, fail with `err`. */
  close(err: Error): void {
    if (this.closedWith) return;
    this.closedWith = err;
    const o = this.outstanding;
    this.outstanding = null;
    o?.reject(err);
    this.wake();
  }

  get closed(): boolean {
    return this.closedWith !== null;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

/** A decision in one sentence, for the trainer's log. */
export function decisionReason(d: DecisionRecord, domainIds: readonly string[]): string {
  if (d.status === null) return `a fixed mixture (${d.strategy})`;
  const names = (ix: readonly number[]) => ix.map((i) => domainIds[i] ?? String(i)).join(', ');
  if (d.status === 'feasible') {
    const binding = d.binding.length > 0 ? `; binding: ${names(d.binding)}` : '';
    return `feasible: the mixture that lowers the targets most with every constraint predicted at or below its reference over the next ${d.horizon} steps${binding}`;
  }
  const v = d.maxViolation !== null && Number.isFinite(d.maxViolation) ? ` (the least achievable excess is ${d.maxViolation.toPrecision(3)})` : '';
  return `infeasible: no mixture is predicted to keep every constraint over the next ${d.horizon} steps, so the least-violating one${v}`;
}

interface Snapshot extends TrainerSnapshot {
  readonly open: true;
}

/** What a checkpoint record holds for an external trainer: its own name for the checkpoint. */
interface RemoteCheckpointMeta {
  external: 1;
  ref: string;
}

function isRemoteMeta(meta: unknown): meta is RemoteCheckpointMeta {
  return typeof meta === 'object' && meta !== null && (meta as { external?: unknown }).external === 1 && typeof (meta as { ref?: unknown }).ref === 'string';
}

function domainLosses(result: Extract<ParsedTaskResult, { kind: 'evaluate' | 'probe' }>): DomainLosses[] {
  return result.domains.map((d) => {
    const batchTokens = d.batchTokens ?? d.batchLosses.map(() => 1);
    return { loss: weightedMeanAndStdError(d.batchLosses, batchTokens).mean, batchLosses: d.batchLosses, batchTokens };
  });
}

export interface RemoteTrainerOptions {
  /** Sources in the config. */
  sources: number;
  /** Batches per domain of each evaluation set (the config's evaluation section). */
  batches: Record<EvalSplit, number>;
  domainIds: readonly string[];
  /** The step the run continues from (0 for a fresh start). */
  step: number;
}

export class RemoteTrainer implements Trainer {
  readonly info: TrainerInfo = {};
  private step: number;
  private pendingProbe: TrainRequest | null = null;
  private probeIndex = 0;
  private probeSeed = 0;
  private decision: TaskDecision | null = null;

  constructor(
    private readonly channel: TaskChannel,
    private readonly storage: CheckpointStorage,
    private readonly options: RemoteTrainerOptions,
  ) {
    this.step = options.step;
  }

  /** The loop decided: the next main-stream train task carries the decision to the trainer. */
  announce(d: DecisionRecord): void {
    this.decision = { step: d.step, weights: [...d.weights], status: d.status ?? 'fixed', reason: decisionReason(d, this.options.domainIds) };
  }

  private async expect<K extends ParsedTaskResult['kind']>(kind: K, request: TaskRequest): Promise<Extract<ParsedTaskResult, { kind: K }>> {
    const result = await this.channel.post(request);
    // The host checks every report against its task before answering; this is the last guard.
    if (result.kind !== kind) throw new Error(`a ${request.kind} task was answered with a ${result.kind} report`);
    return result as Extract<ParsedTaskResult, { kind: K }>;
  }

  async evaluate(split: EvalSplit): Promise<DomainLosses[]> {
    const probe = this.pendingProbe;
    if (probe && split === 'probe') {
      this.pendingProbe = null;
      const n = this.options.sources;
      const dir = probe.direction;
      const mixture = dir ? probe.mixture.map((w, j) => (1 - dir.epsilon) * w + (j === dir.toward ? dir.epsilon : 0)) : [...probe.mixture];
      const result = await this.expect('probe', {
        kind: 'probe', step: this.step, steps: probe.steps, mixture,
        index: this.probeIndex++, count: n, seed: this.probeSeed, batches: this.options.batches.probe,
        direction: dir ? { toward: dir.toward, epsilon: dir.epsilon, center: [...probe.mixture] } : null,
      });
      return domainLosses(result);
    }
    if (probe) throw new Error(`a probe's training was not followed by its probe evaluation (got ${split})`);
    return domainLosses(await this.expect('evaluate', { kind: 'evaluate', step: this.step, split, batches: this.options.batches[split] }));
  }

  async train(request: TrainRequest): Promise<TrainStats> {
    if (request.stream === 'probe') {
      // Trained, evaluated and undone by the trainer in one probe task, sent with the evaluation.
      this.pendingProbe = request;
      return { steps: request.steps, tokens: 0, meanLoss: NaN, skippedSteps: 0 };
    }
    const decision = this.decision;
    this.decision = null;
    const r = await this.expect('train', { kind: 'train', step: this.step, steps: request.steps, mixture: [...request.mixture], decision });
    if (r.steps + r.skippedSteps > request.steps) throw new Error(`the trainer reported ${r.steps + r.skippedSteps} steps for a task of ${request.steps}`);
    this.step += request.steps;
    return { steps: r.steps, tokens: r.tokens, meanLoss: r.meanLoss ?? NaN, skippedSteps: r.skippedSteps };
  }

  async snapshot(): Promise<TrainerSnapshot> {
    this.probeIndex = 0;
    // The same at the same step, so a resumed run's probes draw what the uninterrupted run's did.
    this.probeSeed = Math.imul(this.step + 1, 0x9e3779b1) >>> 0;
    return { open: true } as unknown as Snapshot;
  }

  async restore(_snapshot: TrainerSnapshot, _scope: RestoreScope): Promise<void> {
    // Each probe task leaves the trainer's state as it found it.
  }

  async release(_snapshot: TrainerSnapshot): Promise<void> {
    this.pendingProbe = null;
  }

  async saveCheckpoint(step: number): Promise<CheckpointRef> {
    const r = await this.expect('save', { kind: 'save', step });
    const meta: RemoteCheckpointMeta = { external: 1, ref: r.ref };
    return this.storage.save(step, { meta, payload: [] });
  }

  async loadCheckpoint(ref: CheckpointRef): Promise<void> {
    const { meta } = await this.storage.load(ref);
    if (!isRemoteMeta(meta)) throw new Error(`the checkpoint at step ${ref.step} was not saved by an external trainer`);
    await this.expect('load', { kind: 'load', step: this.step, ref: meta.ref, loadStep: ref.step });
    this.step = ref.step;
  }
}
