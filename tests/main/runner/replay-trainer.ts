// A Trainer that answers from a recorded controller log (RUN/controller.jsonl): every evaluation,
// probe and training report an external trainer sent, in order. Fed to our own loop, it shows that
// an external run's stored decisions are what the loop decides on the same losses. It checks that
// the loop asks for what the trainer was asked (kinds, splits, steps, mixtures) as it goes.
import { readFileSync } from 'node:fs';
import { weightedMeanAndStdError } from '../../../src/main/mixture/slopes';
import type { CheckpointRef, DomainLosses, EvalSplit, Trainer, TrainerSnapshot, TrainRequest, TrainStats } from '../../../src/main/runner/trainer';
import type { ControllerTask, ParsedTaskResult } from '../../../src/shared/services/controller';

interface Entry {
  task: ControllerTask;
  result: ParsedTaskResult;
}

export function readControllerLog(file: string): Entry[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Partial<Entry>)
    .filter((e): e is Entry => e.task !== undefined && e.result !== undefined);
}

function losses(result: ParsedTaskResult): DomainLosses[] {
  if (result.kind !== 'evaluate' && result.kind !== 'probe') throw new Error(`expected an evaluation, the log has ${result.kind}`);
  return result.domains.map((d) => {
    const batchTokens = d.batchTokens ?? d.batchLosses.map(() => 1);
    return { loss: weightedMeanAndStdError(d.batchLosses, batchTokens).mean, batchLosses: d.batchLosses, batchTokens };
  });
}

export class ReplayTrainer implements Trainer {
  readonly info = {};
  private k = 0;
  private probe: TrainRequest | null = null;

  constructor(private readonly entries: readonly Entry[]) {}

  /** Entries not replayed (0 once the loop asked for everything the trainer was asked). */
  get remaining(): number {
    return this.entries.length - this.k;
  }

  private take(kind: ControllerTask['kind']): Entry {
    const e = this.entries[this.k++];
    if (!e) throw new Error(`the loop asked for a ${kind} task after the log's end`);
    if (e.task.kind !== kind) throw new Error(`entry ${this.k}: the loop asked for a ${kind} task, the trainer was asked for a ${e.task.kind}`);
    return e;
  }

  async evaluate(split: EvalSplit): Promise<DomainLosses[]> {
    if (this.probe) {
      const e = this.take('probe');
      const t = e.task as Extract<ControllerTask, { kind: 'probe' }>;
      if (t.steps !== this.probe.steps) throw new Error(`entry ${this.k}: probe of ${this.probe.steps} steps, the log's of ${t.steps}`);
      this.probe = null;
      return losses(e.result);
    }
    const e = this.take('evaluate');
    const t = e.task as Extract<ControllerTask, { kind: 'evaluate' }>;
    if (t.split !== split) throw new Error(`entry ${this.k}: the loop evaluated ${split}, the log ${t.split}`);
    return losses(e.result);
  }

  async train(request: TrainRequest): Promise<TrainStats> {
    if (request.stream === 'probe') {
      this.probe = request;
      return { steps: request.steps, tokens: 0, meanLoss: NaN, skippedSteps: 0 };
    }
    const e = this.take('train');
    const t = e.task as Extract<ControllerTask, { kind: 'train' }>;
    if (t.steps !== request.steps || t.mixture.some((w, j) => w !== request.mixture[j])) {
      throw new Error(`entry ${this.k}: the loop trains ${request.steps} steps on [${request.mixture.join(', ')}], the log ${t.steps} on [${t.mixture.join(', ')}]`);
    }
    const r = e.result as Extract<ParsedTaskResult, { kind: 'train' }>;
    return { steps: r.steps, tokens: r.tokens, meanLoss: r.meanLoss ?? NaN, skippedSteps: r.skippedSteps };
  }

  async snapshot(): Promise<TrainerSnapshot> {
    return {} as TrainerSnapshot;
  }

  async restore(): Promise<void> {}

  async release(): Promise<void> {}

  async saveCheckpoint(step: number): Promise<CheckpointRef> {
    const e = this.take('save');
    return { step, id: (e.result as Extract<ParsedTaskResult, { kind: 'save' }>).ref };
  }

  async loadCheckpoint(ref: CheckpointRef): Promise<void> {
    const e = this.take('load');
    const t = e.task as Extract<ControllerTask, { kind: 'load' }>;
    if (t.loadStep !== ref.step) throw new Error(`entry ${this.k}: the loop loads step ${ref.step}, the log ${t.loadStep}`);
  }
}
