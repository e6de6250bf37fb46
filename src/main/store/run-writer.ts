// Everything the trainer process writes about its own run: metrics (batched), mixture decisions,
// events, and the two halves of a checkpoint record (begun before the file is written, completed
// with its hash and loop state after the rename). A checkpoint row becomes complete only after
// every metric up to its step is committed, so a resume from it never misses a row.
import type { Database, Statement } from 'better-sqlite3';
import { guard } from './errors';
import { MetricsWriter, type MetricsWriterOptions } from './metrics-writer';
import { RUN_LIMITS } from './run-store';
import type { CheckpointCompletion, Clock, Decision, DecisionOutcome, EventLevel } from './types';

export interface RunWriterOptions extends MetricsWriterOptions {
  clock?: Clock;
}

function json(value: unknown, what: string): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError(`${what} is not JSON-serializable`);
  return text;
}

function nullableJson(value: unknown, what: string): string | null {
  return value === null || value === undefined ? null : json(value, what);
}

export class RunWriter {
  readonly metrics: MetricsWriter;
  private readonly clock: Clock;
  private readonly file: string;
  private readonly insertDecision: Statement;
  private readonly insertOutcome: Statement;
  private readonly insertEvent: Statement;
  private readonly upsertPendingCheckpoint: Statement;
  private readonly updateCompleteCheckpoint: Statement;
  private readonly deletePendingCheckpoint: Statement;

  constructor(private readonly db: Database, readonly runId: number, options: RunWriterOptions = {}) {
    this.clock = options.clock ?? Date.now;
    this.file = db.name;
    this.metrics = new MetricsWriter(db, runId, options);
    this.insertDecision = db.prepare(`INSERT INTO decisions (run_id, step, horizon, weights, slopes, losses, predicted, status, solver, binding)
      VALUES (@runId, @step, @horizon, @weights, @slopes, @losses, @predicted, @status, @solver, @binding)`);
    this.insertOutcome = db.prepare(`INSERT INTO decision_outcomes (run_id, step, domain_index, domain, measured_at, predicted, calibrated, actual)
      VALUES (@runId, @step, @domainIndex, @domain, @measuredAt, @predicted, @calibrated, @actual)`);
    this.insertEvent = db.prepare('INSERT INTO events (run_id, at, level, message, step, data) VALUES (?, ?, ?, ?, ?, ?)');
    // A step whose earlier save never completed is started over; a complete one is never replaced.
    this.upsertPendingCheckpoint = db.prepare(`INSERT INTO checkpoints (run_id, step, path, complete, created_at) VALUES (?, ?, ?, 0, ?)
      ON CONFLICT (run_id, step) DO UPDATE SET path = excluded.path, created_at = excluded.created_at WHERE complete = 0`);
    this.updateCompleteCheckpoint = db.prepare(`UPDATE checkpoints SET complete = 1, sha256 = @sha256, bytes = @bytes, feasible = @feasible,
      losses = @losses, state = @state WHERE run_id = @runId AND step = @step AND complete = 0`);
    this.deletePendingCheckpoint = db.prepare('DELETE FROM checkpoints WHERE run_id = ? AND step = ? AND complete = 0');
  }

  decision(d: Decision): void {
    const row = {
      runId: this.runId,
      step: d.step,
      horizon: d.horizon,
      weights: json(d.weights, 'decision weights'),
      slopes: nullableJson(d.slopes, 'decision slopes'),
      losses: nullableJson(d.losses, 'decision losses'),
      predicted: nullableJson(d.predicted, 'decision predicted losses'),
      status: d.status,
      solver: json(d.solver, 'solver details'),
      binding: json(d.binding, 'binding constraints'),
    };
    guard(`save the mixture decision of run ${this.runId} at step ${d.step}`, this.file, () => this.insertDecision.run(row));
  }

  /** One decision's outcome, a row per domain (in the run's domain order), in one transaction. */
  outcome(rows: readonly DecisionOutcome[]): void {
    if (rows.length === 0) return;
    guard(`save the outcome of run ${this.runId}'s decision at step ${rows[0]!.step}`, this.file, () =>
      this.db.transaction(() => {
        rows.forEach((r, domainIndex) => this.insertOutcome.run({ runId: this.runId, domainIndex, ...r }));
      })(),
    );
  }

  event(level: EventLevel, message: string, options: { step?: number; data?: unknown } = {}): void {
    guard(`save an event of run ${this.runId}`, this.file, () =>
      this.insertEvent.run(this.runId, this.clock(), level, message.slice(0, RUN_LIMITS.message), options.step ?? null, nullableJson(options.data, 'event data')),
    );
  }

  /** Records that a checkpoint file is about to be written (incomplete: never offered for loading). */
  beginCheckpoint(step: number, path: string): void {
    guard(`start a checkpoint of run ${this.runId}`, this.file, () => {
      const changes = this.upsertPendingCheckpoint.run(this.runId, step, path, this.clock()).changes;
      if (changes === 0) throw new Error(`run ${this.runId} already has a complete checkpoint at step ${step}`);
    });
  }

  /**
   * Marks the checkpoint complete once its file is renamed into place, with its hash and the loop
   * state. Flushes buffered metrics first (their own commit), so every row up to the step is saved.
   */
  completeCheckpoint(step: number, completion: CheckpointCompletion): void {
    this.metrics.flush();
    const row = {
      runId: this.runId,
      step,
      sha256: completion.sha256,
      bytes: completion.bytes,
      feasible: completion.feasible === undefined || completion.feasible === null ? null : completion.feasible ? 1 : 0,
      losses: nullableJson(completion.losses, 'checkpoint losses'),
      state: json(completion.state, 'checkpoint loop state'),
    };
    guard(`record the checkpoint of run ${this.runId} at step ${step}`, this.file, () => {
      if (this.updateCompleteCheckpoint.run(row).changes !== 1) throw new Error(`run ${this.runId} has no checkpoint being saved at step ${step}`);
    });
  }

  /** Forgets a checkpoint whose file could not be written. */
  abandonCheckpoint(step: number): void {
    guard(`drop the unfinished checkpoint of run ${this.runId} at step ${step}`, this.file, () => this.deletePendingCheckpoint.run(this.runId, step));
  }
}
