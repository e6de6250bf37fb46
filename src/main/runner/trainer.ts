// The Trainer interface: everything the experiment loop needs from a model, its optimizer and its
// data, and nothing more. The product implements it with the ONNX engine and the data layer; tests
// use SyntheticTrainer, a test double with known loss dynamics. Domains and sources are always
// addressed by their index in the run configuration's `domains` and `sources` lists.
import type { CheckpointRef } from '../../shared/runs';
import type { DomainLosses } from '../mixture/slopes';

export type { DomainLosses } from '../mixture/slopes';

/**
 * Which fixed evaluation set:
 * - 'regular': `evaluation.regularBatches` batches per domain from the held-out eval split, the same
 *   batches in the same order at every call;
 * - 'probe': the first `evaluation.probeBatches` of those same batches (so the loop may recycle a
 *   regular evaluation as a probe anchor by taking that prefix);
 * - 'test': `evaluation.testBatches` batches per domain from the test split, for the final report.
 */
export type EvalSplit = 'probe' | 'regular' | 'test';

/**
 * Which data streams a training call draws from. 'main': the run's own per-source samplers and its
 * mixture sampler. 'probe': separate per-source streams (and a separate mixture sampler) used only
 * by probes, so probing never changes the main run's data order.
 */
export type DataStream = 'main' | 'probe';

export interface TrainRequest {
  steps: number;
  /**
   * One weight per source (summing to 1): the share of training examples drawn from each source. A
   * probe on source j passes e_j. Each step's batch is drawn by the stream's mixture sampler.
   */
  mixture: readonly number[];
  stream: DataStream;
  /**
   * Probe stream only: a directional probe [ours]. Trains on (1 − ε)·mixture + ε·e_toward with common
   * random numbers, so directional probes from the same snapshot (restored with scope 'all') share
   * every batch row that does not go to their own direction.
   */
  direction?: { toward: number; epsilon: number };
}

export interface TrainStats {
  /** Optimizer steps taken (excluding skipped ones). */
  steps: number;
  /** Tokens that carried loss in those steps. */
  tokens: number;
  /** Mean training loss over the steps taken (NaN when none was taken). */
  meanLoss: number;
  /** Steps skipped because the loss or a gradient was not finite. */
  skippedSteps: number;
}

/** Where a checkpoint lives; plain data so the loop's state can be stored and resumed (defined with the run records in src/shared/runs.ts). */
export type { CheckpointRef } from '../../shared/runs';

/** Opaque to the loop: whatever the trainer needs to undo a probe. */
export interface TrainerSnapshot {
  readonly __trainerSnapshot: unique symbol;
}

/**
 * - 'model': trainable parameters and optimizer state (Adam moments and step count, so the learning
 *   rate schedule position too);
 * - 'all': the above and the probe streams' positions (per-source samplers and the probe mixture
 *   sampler). The main streams are not in a snapshot: only main-stream training moves them.
 */
export type RestoreScope = 'model' | 'all';

export interface UpdateDirection {
  /** d_j: the update the optimizer would apply per unit learning rate, θ ← θ − lr·d_j. */
  direction: Float32Array;
  /** The learning rate the next main step would use. */
  learningRate: number;
}

export interface TrainerInfo {
  /** Each source's size in tokens, when known; used by fixed-proportional when the config has none. */
  sourceSizes?: readonly number[];
}

export interface Trainer {
  readonly info: TrainerInfo;

  /** Mean token loss of every domain (config order) on a fixed evaluation set, per batch too. */
  evaluate(split: EvalSplit): Promise<DomainLosses[]>;

  /**
   * Trains `steps` optimizer steps on the mixture, with the run's optimizer, learning-rate schedule,
   * batch size and sequence length, drawing from the given streams.
   */
  train(request: TrainRequest): Promise<TrainStats>;

  /** Captures trainable parameters, optimizer state and probe-stream positions. */
  snapshot(): Promise<TrainerSnapshot>;
  /** Puts back the given part of a snapshot; the snapshot stays valid for further restores. */
  restore(snapshot: TrainerSnapshot, scope: RestoreScope): Promise<void>;
  /** Frees a snapshot's memory. */
  release(snapshot: TrainerSnapshot): Promise<void>;

  /**
   * Saves what is needed to continue exactly from here: trainable parameters, optimizer state, and
   * every stream's position (main and probe). Backtracking and resume both load these.
   */
  saveCheckpoint(step: number): Promise<CheckpointRef>;
  loadCheckpoint(ref: CheckpointRef): Promise<void>;

  /**
   * Gradient alignment only: each domain's loss gradient (flattened over the trainable parameters)
   * on the probe set, with the losses computed on the way.
   */
  evalGradients?(): Promise<{ losses: DomainLosses[]; gradients: Float32Array[] }>;
  /**
   * Gradient alignment only: for each source, the optimizer's update direction on one probe-stream
   * batch from the current state, without applying it (parameters and optimizer state unchanged;
   * the probe streams advance).
   */
  updateDirections?(): Promise<UpdateDirection[]>;

  close?(): Promise<void>;
}
