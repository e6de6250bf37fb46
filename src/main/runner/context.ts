// What the parts of the experiment loop share while a run is in progress: the config, the trainer,
// the solver, the loop state, and the bookkeeping of time, cost and progress events.
import type { RunConfig } from '../../shared/run-config';
import { costReport, type CostCategory, type CostCounters } from '../mixture/cost';
import type { DomainRole } from '../mixture/problem';
import type { MixtureSolver } from '../mixture/solver';
import type { RunEvent, RunPhase } from './events';
import { cloneLoopState, type LoopState } from './state';
import type { Trainer } from './trainer';

export class RunCancelledError extends Error {
  override name = 'RunCancelled';
  constructor(step: number) {
    super(`the run was cancelled at step ${step}`);
  }
}

/**
 * The loop stopped at a safe point because its pause signal was raised: its state at `step` was
 * handed out through `onState` together with a checkpoint, so `resume` continues exactly there.
 */
export class RunPausedError extends Error {
  override name = 'RunPaused';
  constructor(readonly step: number) {
    super(`the run was paused at step ${step}`);
  }
}

export interface LoopOptions {
  onEvent?: (event: RunEvent) => void;
  /** Called with a JSON-safe copy of the loop state after every checkpoint (for resume). */
  onState?: (state: LoopState) => void;
  /** Milliseconds; defaults to performance.now(). Injected by tests. */
  clock?: () => number;
  signal?: AbortSignal;
  /**
   * Pause: once aborted, the loop stops at the next safe point (between training chunks, before a
   * decision, after a regular checkpoint), saves a checkpoint there unless its state was just
   * handed out, calls `onState` and throws RunPausedError. Probing is never cut: it finishes first.
   */
  pauseSignal?: AbortSignal;
  /** Training is done in chunks of this many steps, with a progress event after each. Default 16. */
  progressChunkSteps?: number;
}

export class LoopContext {
  readonly m: number;
  readonly n: number;
  readonly roles: DomainRole[];
  private readonly clock: () => number;
  private readonly startedAt: number;
  /** Forward-equivalents already done when this process took over (a resumed run's earlier work). */
  private readonly doneAtStart: number;
  private lastTokensPerSecond = 0;

  constructor(
    readonly config: RunConfig,
    readonly trainer: Trainer,
    readonly solver: MixtureSolver,
    readonly state: LoopState,
    readonly updates: readonly number[],
    private readonly plannedTotal: number,
    private readonly options: LoopOptions,
  ) {
    this.m = config.domains.length;
    this.n = config.sources.length;
    this.roles = config.domains.map((d) => d.role);
    this.clock = options.clock ?? (() => performance.now());
    this.startedAt = this.clock();
    this.doneAtStart = costReport(config, this.m, state.counters, {}).total;
  }

  /** Milliseconds on the run's clock. */
  now(): number {
    return this.clock();
  }

  emit(event: RunEvent): void {
    this.options.onEvent?.(event);
  }

  count(delta: Partial<CostCounters>): void {
    for (const [k, v] of Object.entries(delta) as [keyof CostCounters, number][]) this.state.counters[k] += v;
  }

  /** Batches an evaluation actually used (a short split may give fewer than configured). */
  static batchesIn(losses: readonly { batchLosses: readonly number[] }[]): number {
    return losses.reduce((s, d) => s + d.batchLosses.length, 0);
  }

  /** Runs `fn`, adding its wall time to `category`. */
  async timed<T>(category: CostCategory, fn: () => Promise<T>): Promise<T> {
    const t0 = this.clock();
    try {
      return await fn();
    } finally {
      this.state.wallSeconds[category] = (this.state.wallSeconds[category] ?? 0) + (this.clock() - t0) / 1000;
    }
  }

  noteThroughput(tokens: number, seconds: number): void {
    if (seconds > 0) this.lastTokensPerSecond = tokens / seconds;
  }

  checkCancelled(): void {
    if (this.options.signal?.aborted) throw new RunCancelledError(this.state.step);
  }

  get pauseRequested(): boolean {
    return this.options.pauseSignal?.aborted === true;
  }

  /** Hands a JSON-safe copy of the loop state out (after a checkpoint: what a resume starts from). */
  emitState(): void {
    this.options.onState?.(cloneLoopState(this.state));
  }

  progress(phase: RunPhase, step = this.state.step): void {
    const elapsedSeconds = (this.clock() - this.startedAt) / 1000;
    const done = costReport(this.config, this.m, this.state.counters, {}).total;
    const remaining = Math.max(0, this.plannedTotal - done);
    // The pace of this process only: a resumed run's earlier work took no time here.
    const doneHere = done - this.doneAtStart;
    const etaSeconds = doneHere > 0 && elapsedSeconds > 0 ? (elapsedSeconds * remaining) / doneHere : null;
    this.emit({ type: 'progress', step, totalSteps: this.config.training.steps, phase, tokensPerSecond: this.lastTokensPerSecond, elapsedSeconds, etaSeconds });
  }

  get probeBatches(): number {
    return this.config.evaluation.probeBatches;
  }

  get adaptive(): boolean {
    return this.config.strategy.kind === 'dynamics' || this.config.strategy.kind === 'gradient-alignment';
  }
}
