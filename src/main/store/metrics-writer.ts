// Batched metric writes for one run, from the trainer process. Points are buffered and written in
// one transaction per batch (a commit per step would cost an fsync per step under
// synchronous=FULL). A failed flush (full disk) keeps the buffer, so nothing is lost: the caller
// frees space and flushes again. Series ids are cached, and only after their transaction commits.
import type { Database, Statement } from 'better-sqlite3';
import { guard } from './errors';
import type { Clock, MetricValue, StepProgress } from './types';

export interface MetricsWriterOptions {
  /** Points buffered before an automatic flush. */
  batchSize?: number;
  clock?: Clock;
}

export const METRIC_LIMITS = { kind: 64, domain: 128 } as const;

interface PendingPoint {
  key: string;
  kind: string;
  domain: string;
  step: number;
  value: number | null;
}

interface PendingStep {
  step: number;
  tokens: number;
  wallMs: number;
}

function checkStep(step: number): void {
  if (!Number.isSafeInteger(step) || step < 0) throw new RangeError(`a metric step must be a non-negative integer (got ${step})`);
}

export class MetricsWriter {
  private readonly batchSize: number;
  private readonly clock: Clock;
  private readonly file: string;
  private readonly seriesIds = new Map<string, number>();
  private points: PendingPoint[] = [];
  private steps: PendingStep[] = [];
  private readonly insertSeries: Statement;
  private readonly selectSeries: Statement<[number, string, string], { id: number }>;
  private readonly insertPoint: Statement;
  private readonly insertStep: Statement;
  private readonly updateProgress: Statement;

  constructor(private readonly db: Database, readonly runId: number, options: MetricsWriterOptions = {}) {
    this.batchSize = options.batchSize ?? 5_000;
    this.clock = options.clock ?? Date.now;
    this.file = db.name;
    this.insertSeries = db.prepare('INSERT INTO metric_series (run_id, kind, domain) VALUES (?, ?, ?) ON CONFLICT (run_id, kind, domain) DO NOTHING');
    this.selectSeries = db.prepare('SELECT id FROM metric_series WHERE run_id = ? AND kind = ? AND domain = ?');
    this.insertPoint = db.prepare('INSERT INTO metrics (series_id, step, value) VALUES (?, ?, ?)');
    this.insertStep = db.prepare('INSERT INTO steps (run_id, step, tokens, wall_ms) VALUES (?, ?, ?, ?) ON CONFLICT (run_id, step) DO NOTHING');
    this.updateProgress = db.prepare(`UPDATE runs SET last_step = max(coalesce(last_step, -1), @step), tokens_seen = max(tokens_seen, @tokens),
      duration_ms = max(duration_ms, @wallMs), updated_at = @now WHERE id = @id`);
  }

  /** Points and step rows waiting for the next flush. */
  get pending(): number {
    return this.points.length + this.steps.length;
  }

  /**
   * Buffers one step: its progress (tokens seen and wall time so far; null when another call
   * already gave it) and its values. Flushes when the buffer is full.
   */
  record(step: number, progress: StepProgress | null, values: readonly MetricValue[]): void {
    checkStep(step);
    if (progress) {
      if (!Number.isSafeInteger(progress.tokens) || progress.tokens < 0) throw new RangeError(`tokens seen must be a non-negative integer (got ${progress.tokens})`);
      if (!Number.isFinite(progress.wallMs) || progress.wallMs < 0) throw new RangeError(`wall time must be a non-negative number of ms (got ${progress.wallMs})`);
      this.steps.push({ step, tokens: progress.tokens, wallMs: Math.round(progress.wallMs) });
    }
    for (const v of values) {
      const domain = v.domain ?? '';
      if (typeof v.kind !== 'string' || v.kind.length === 0 || v.kind.length > METRIC_LIMITS.kind) throw new RangeError(`a metric kind must have 1 to ${METRIC_LIMITS.kind} characters`);
      if (typeof domain !== 'string' || domain.length > METRIC_LIMITS.domain) throw new RangeError(`a metric domain must have at most ${METRIC_LIMITS.domain} characters`);
      if (typeof v.value !== 'number') throw new TypeError(`metric ${v.kind}/${domain} at step ${step} is not a number`);
      // SQLite stores NaN as NULL; readers turn it back into NaN.
      this.points.push({ key: `${v.kind}\u0000${domain}`, kind: v.kind, domain, step, value: Number.isNaN(v.value) ? null : v.value });
    }
    if (this.pending >= this.batchSize) this.flush();
  }

  /** Writes the buffer in one transaction; returns the number of rows written. */
  flush(): number {
    if (this.pending === 0) return 0;
    const points = this.points;
    const steps = this.steps;
    const created = new Map<string, number>();
    const write = this.db.transaction(() => {
      let maxStep = -1;
      let maxTokens = 0;
      let maxWall = 0;
      for (const s of steps) {
        this.insertStep.run(this.runId, s.step, s.tokens, s.wallMs);
        if (s.step > maxStep) maxStep = s.step;
        if (s.tokens > maxTokens) maxTokens = s.tokens;
        if (s.wallMs > maxWall) maxWall = s.wallMs;
      }
      for (const p of points) {
        let id = this.seriesIds.get(p.key) ?? created.get(p.key);
        if (id === undefined) {
          this.insertSeries.run(this.runId, p.kind, p.domain);
          id = this.selectSeries.get(this.runId, p.kind, p.domain)!.id;
          created.set(p.key, id);
        }
        this.insertPoint.run(id, p.step, p.value);
        if (p.step > maxStep) maxStep = p.step;
      }
      this.updateProgress.run({ id: this.runId, step: maxStep, tokens: maxTokens, wallMs: maxWall, now: this.clock() });
    });
    guard(`save ${points.length} metric values of run ${this.runId}`, this.file, () => {
      try {
        write.immediate();
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
          throw new Error(`run ${this.runId} already has a value for one of these metrics at the same step (each (step, kind, domain) is recorded once)`, { cause: err });
        }
        if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') throw new Error(`run ${this.runId} does not exist (deleted while it was writing?)`, { cause: err });
        throw err;
      }
    });
    // Committed: only now is the buffer dropped and are the new series ids trusted.
    for (const [key, id] of created) this.seriesIds.set(key, id);
    this.points = [];
    this.steps = [];
    return points.length + steps.length;
  }
}
