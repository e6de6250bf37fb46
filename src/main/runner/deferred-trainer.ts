// A Trainer that creates its real trainer on first use. The baseline suite asks each run's trainer
// for its source sizes before knowing whether the run is a duplicate of an earlier mixture (then it
// closes it unused); deferring spares loading a model and compiling its session for nothing.
import type {
  CheckpointRef,
  DomainLosses,
  EvalSplit,
  RestoreScope,
  Trainer,
  TrainerInfo,
  TrainerSnapshot,
  TrainRequest,
  TrainStats,
  UpdateDirection,
} from './trainer';

const NO_GRADIENTS = 'this trainer cannot compute eval gradients and update directions, which gradient alignment needs';

export class DeferredTrainer implements Trainer {
  private inner: Promise<Trainer> | null = null;

  constructor(
    readonly info: TrainerInfo,
    private readonly create: () => Promise<Trainer>,
  ) {}

  /** Whether the real trainer was ever needed. */
  get created(): boolean {
    return this.inner !== null;
  }

  private get trainer(): Promise<Trainer> {
    this.inner ??= this.create();
    return this.inner;
  }

  async evaluate(split: EvalSplit): Promise<DomainLosses[]> {
    return (await this.trainer).evaluate(split);
  }

  async train(request: TrainRequest): Promise<TrainStats> {
    return (await this.trainer).train(request);
  }

  async snapshot(): Promise<TrainerSnapshot> {
    return (await this.trainer).snapshot();
  }

  async restore(snapshot: TrainerSnapshot, scope: RestoreScope): Promise<void> {
    return (await this.trainer).restore(snapshot, scope);
  }

  async release(snapshot: TrainerSnapshot): Promise<void> {
    return (await this.trainer).release(snapshot);
  }

  async saveCheckpoint(step: number): Promise<CheckpointRef> {
    return (await this.trainer).saveCheckpoint(step);
  }

  async loadCheckpoint(ref: CheckpointRef): Promise<void> {
    return (await this.trainer).loadCheckpoint(ref);
  }

  // Present whatever the real trainer offers: the loop asks for these only for gradient alignment.
  async evalGradients(): Promise<{ losses: DomainLosses[]; gradients: Float32Array[] }> {
    const t = await this.trainer;
    if (!t.evalGradients) throw new Error(NO_GRADIENTS);
    return t.evalGradients();
  }

  async updateDirections(): Promise<UpdateDirection[]> {
    const t = await this.trainer;
    if (!t.updateDirections) throw new Error(NO_GRADIENTS);
    return t.updateDirections();
  }

  async close(): Promise<void> {
    if (this.inner) await (await this.inner).close?.();
  }
}
