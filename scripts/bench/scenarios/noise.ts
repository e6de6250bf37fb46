// The noise of the benchmark's evaluation sets, measured on a real run: a Trainer that forwards
// everything to the engine's and keeps the regular evaluations' per-batch losses. Feasibility
// compares a checkpoint's eval loss with the base model's on the same batches, so the noise that
// decides it is that of the paired change (per-batch differences), not that of the loss itself
// (which also holds how batches differ from each other); both are reported.
import type { RunConfig } from '../../../src/shared/run-config';
import { weightedMeanAndStdError } from '../../../src/main/mixture/slopes';
import type { ReferenceRecord } from '../../../src/main/runner/events';
import type { DomainLosses, EvalSplit, RestoreScope, Trainer, TrainerSnapshot, TrainRequest, CheckpointRef } from '../../../src/main/runner/trainer';
import type { RunRecord } from './results';

export class NoiseProbe implements Trainer {
  private first: DomainLosses[] | null = null;
  private last: DomainLosses[] | null = null;

  constructor(private readonly inner: Trainer) {}

  get info() {
    return this.inner.info;
  }

  async evaluate(split: EvalSplit): Promise<DomainLosses[]> {
    const losses = await this.inner.evaluate(split);
    if (split === 'regular') {
      this.first ??= losses;
      this.last = losses;
    }
    return losses;
  }

  train(request: TrainRequest) {
    return this.inner.train(request);
  }
  snapshot(): Promise<TrainerSnapshot> {
    return this.inner.snapshot();
  }
  restore(snapshot: TrainerSnapshot, scope: RestoreScope): Promise<void> {
    return this.inner.restore(snapshot, scope);
  }
  release(snapshot: TrainerSnapshot): Promise<void> {
    return this.inner.release(snapshot);
  }
  saveCheckpoint(step: number): Promise<CheckpointRef> {
    return this.inner.saveCheckpoint(step);
  }
  loadCheckpoint(ref: CheckpointRef): Promise<void> {
    return this.inner.loadCheckpoint(ref);
  }

  /** Per domain: the standard errors of the last evaluation's change and level, and each constraint's tolerance in loss units. */
  report(config: RunConfig, refs: ReferenceRecord): NonNullable<RunRecord['noise']> {
    if (!this.first || !this.last) throw new Error('the noise probe saw no regular evaluation');
    const first = this.first;
    const last = this.last;
    const round = (x: number) => Number(x.toPrecision(4));
    return {
      domains: config.domains.map((d) => d.id),
      changeStdErrors: last.map((d, i) => {
        const base = first[i] as DomainLosses;
        const k = Math.min(d.batchLosses.length, base.batchLosses.length);
        const diffs = Array.from({ length: k }, (_, b) => (d.batchLosses[b] as number) - (base.batchLosses[b] as number));
        return round(weightedMeanAndStdError(diffs, d.batchTokens.slice(0, k)).stdError);
      }),
      levelStdErrors: last.map((d) => round(weightedMeanAndStdError(d.batchLosses, d.batchTokens).stdError)),
      tolerances: refs.references.map((r, i) => (r === null ? null : round(r - (refs.baseLosses[i] as number)))),
    };
  }
}
