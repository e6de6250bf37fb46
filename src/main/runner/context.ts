// What the parts of the experiment loop share while a run is in progress: the config, the trainer,
// the solver, the loop state, and the bookkeeping of time, cost and progress events.
import type { RunConfig } from '../../shared/run-config';
import { costReport, type CostCategory, type CostCounters } from '../mixture/cost';
import type { DomainRole } from '../mixture/problem';
import type { MixtureSolver } from '../mixture/solver';
import type { RunEvent, RunPhase } from './events';
import type { LoopState } from './state';
import type { Trainer } from './trainer';

export class RunCancelledError extends Error {
  override name = 'RunCancelled';
  constructor(step: number) {
    super(`the run was cancelled at step ${step}`);
  }
}

export interface LoopOptions {
  onEvent?: (event: RunEvent) => void;
  /** Called with a JSON-safe copy of the loop state after every checkpoint (for resume). */
  onState?: (state: LoopState) => void;
  /** Milliseconds; defaults to performance.now(). Injected by tests. */
  clock?: () => number;
  signal?: AbortSignal;
  /** Training is done in chunks of this many steps, with a progress event after each. Default 16. */
  progressChunkSteps?: number;
}

export class LoopContext {
  readonly m: number;
  readonly n: number;
  readonly roles: DomainRole[];
  private readonly clock: () => number;
  private readonly startedAt: number;
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

  progress(phase: RunPhase, step = this.state.step): void {
    const elapsedSeconds = (this.clock() - this.startedAt) / 1000;
    const done = costReport(this.config, this.m, this.state.counters, {}).total;
    const remaining = Math.max(0, this.plannedTotal - done);
    const etaSeconds = done > 0 && elapsedSeconds > 0 ? (elapsedSeconds * remaining) / done : null;
    this.emit({ type: 'progress', step, totalSteps: this.config.training.steps, phase, tokensPerSecond: this.lastTokensPerSecond, elapsedSeconds, etaSeconds });
  }

  get probeBatches(): number {
    return this.config.evaluation.probeBatches;
  }

  get adaptive(): boolean {
    return this.config.strategy.kind === 'dynamics' || this.config.strategy.kind === 'gradient-alignment';
  }
}
