// The queries the UI and the CLI need: the runs list, one run, its curves, decisions, checkpoints
// and events, and series of several runs for comparison. Every statement is prepared once. A method
// that runs several statements runs them in one read transaction: under WAL that is one snapshot,
// so a trainer committing meanwhile never shows up half-way (a curve longer than its timeline…).
import type { Database, Statement } from 'better-sqlite3';
import { NotFoundError } from '../../shared/errors';
import { guard } from './errors';
import {
  RUN_SUMMARY_COLUMNS, toCheckpoint, toDecision, toEvent, toRunRecord, toRunSummary, type CheckpointRow, type DecisionRow, type EventRow,
  type RunRow, type RunSummaryRow,
} from './rows';
import type { CheckpointRecord, CurveQuery, Decision, DecisionOutcome, MetricSeries, RunEvent, RunListFilter, RunRecord, RunSummary } from './types';

const MAX_STEP = Number.MAX_SAFE_INTEGER;

interface SeriesRow {
  id: number;
  kind: string;
  domain: string;
}

interface Timeline {
  steps: number[];
  tokens: number[];
  wallMs: number[];
}

/** Tokens and wall time at each of `steps` (null where the step has no progress row). */
function progressAt(steps: number[], timeline: Timeline): { tokens: (number | null)[]; wallMs: (number | null)[] } {
  if (steps === timeline.steps) return { tokens: timeline.tokens, wallMs: timeline.wallMs };
  // Both lists are sorted by step: a merge join, linear in their lengths.
  const tokens = new Array<number | null>(steps.length);
  const wallMs = new Array<number | null>(steps.length);
  let j = 0;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    while (j < timeline.steps.length && timeline.steps[j]! < step) j++;
    const found = j < timeline.steps.length && timeline.steps[j] === step;
    tokens[i] = found ? timeline.tokens[j]! : null;
    wallMs[i] = found ? timeline.wallMs[j]! : null;
  }
  return { tokens, wallMs };
}

/** One run's curves plus the names of its series (for legends and pickers). */
export interface RunCurves {
  runId: number;
  series: MetricSeries[];
}

export class RunReader {
  private readonly file: string;
  private readonly listRuns: Statement<Record<string, unknown>, RunSummaryRow>;
  private readonly selectRun: Statement<[number], RunRow>;
  private readonly selectSeries: Statement<Record<string, unknown>, SeriesRow>;
  private readonly seriesRange: Statement<[number, number, number], { n: number; lo: number | null; hi: number | null }>;
  private readonly pluckSteps: Statement<[number, number, number], number>;
  private readonly pluckValues: Statement<[number, number, number], number | null>;
  private readonly pluckTimelineSteps: Statement<[number, number, number], number>;
  private readonly pluckTimelineTokens: Statement<[number, number, number], number>;
  private readonly pluckTimelineWall: Statement<[number, number, number], number>;
  private readonly selectDecisions: Statement<[number], DecisionRow>;
  private readonly selectOutcomes: Statement<[number], DecisionOutcome>;
  private readonly selectCheckpoints: Statement<[number, number], CheckpointRow>;
  private readonly selectCheckpointState: Statement<[number, number], { state: string }>;
  private readonly selectEvents: Statement<[number, number, number], EventRow>;
  private readonly selectSuite: Statement<[string], RunSummaryRow>;

  constructor(private readonly db: Database) {
    this.file = db.name;
    this.listRuns = db.prepare(`SELECT ${RUN_SUMMARY_COLUMNS} FROM runs
      WHERE (@statuses IS NULL OR status IN (SELECT value FROM json_each(@statuses)))
        AND (@tag IS NULL OR EXISTS (SELECT 1 FROM json_each(runs.tags) WHERE value = @tag))
        AND (@search IS NULL OR instr(lower(name), lower(@search)) > 0)
      ORDER BY created_at DESC, id DESC LIMIT @limit OFFSET @offset`);
    this.selectRun = db.prepare(`SELECT ${RUN_SUMMARY_COLUMNS}, config, sources, domains, app_version, device_reason, model_id, launch FROM runs WHERE id = ?`);
    this.selectSeries = db.prepare(`SELECT id, kind, domain FROM metric_series WHERE run_id = @runId
      AND (@kind IS NULL OR kind = @kind) AND (@domain IS NULL OR domain = @domain) ORDER BY kind, domain`);
    // One column per statement, plucked: materializing one JS value per row instead of one array
    // per row is what keeps a 100,000-point run under the latency goal (see bench:store).
    this.seriesRange = db.prepare('SELECT count(*) AS n, min(step) AS lo, max(step) AS hi FROM metrics WHERE series_id = ? AND step BETWEEN ? AND ?');
    const pluck = <R>(sql: string) => db.prepare<[number, number, number], R>(sql).pluck();
    this.pluckSteps = pluck<number>('SELECT step FROM metrics WHERE series_id = ? AND step BETWEEN ? AND ? ORDER BY step');
    this.pluckValues = pluck<number | null>('SELECT value FROM metrics WHERE series_id = ? AND step BETWEEN ? AND ? ORDER BY step');
    this.pluckTimelineSteps = pluck<number>('SELECT step FROM steps WHERE run_id = ? AND step BETWEEN ? AND ? ORDER BY step');
    this.pluckTimelineTokens = pluck<number>('SELECT tokens FROM steps WHERE run_id = ? AND step BETWEEN ? AND ? ORDER BY step');
    this.pluckTimelineWall = pluck<number>('SELECT wall_ms FROM steps WHERE run_id = ? AND step BETWEEN ? AND ? ORDER BY step');
    this.selectDecisions = db.prepare('SELECT run_id, step, horizon, weights, slopes, losses, predicted, status, solver, binding FROM decisions WHERE run_id = ? ORDER BY step');
    this.selectOutcomes = db.prepare(`SELECT step, domain, measured_at AS measuredAt, predicted, calibrated, actual FROM decision_outcomes
      WHERE run_id = ? ORDER BY step, domain_index`);
    this.selectCheckpoints = db.prepare(`SELECT run_id, step, path, complete, sha256, bytes, feasible, losses, created_at FROM checkpoints
      WHERE run_id = ? AND complete >= ? ORDER BY step`);
    this.selectCheckpointState = db.prepare('SELECT state FROM checkpoints WHERE run_id = ? AND step = ? AND complete = 1');
    this.selectEvents = db.prepare('SELECT id, run_id, at, level, message, step, data FROM events WHERE run_id = ? AND id > ? ORDER BY id LIMIT ?');
    this.selectSuite = db.prepare(`SELECT ${RUN_SUMMARY_COLUMNS} FROM runs WHERE json_extract(launch, '$.suite.key') = ?
      ORDER BY json_extract(launch, '$.suite.index'), id`);
  }

  /** Runs several reads as one consistent snapshot. */
  snapshot<T>(fn: () => T): T {
    return guard('read it', this.file, () => this.db.transaction(fn).deferred());
  }

  /** The runs list, newest first, with the summary columns. */
  list(filter: RunListFilter = {}): RunSummary[] {
    const statuses = filter.status === undefined ? null : JSON.stringify(typeof filter.status === 'string' ? [filter.status] : filter.status);
    const rows = guard('list runs', this.file, () =>
      this.listRuns.all({
        statuses,
        tag: filter.tag ?? null,
        search: filter.search ?? null,
        limit: filter.limit ?? -1,
        offset: filter.offset ?? 0,
      }),
    );
    return rows.map(toRunSummary);
  }

  get(runId: number): RunRecord {
    const row = guard(`read run ${runId}`, this.file, () => this.selectRun.get(runId));
    if (!row) throw new NotFoundError(`there is no run ${runId}`);
    return toRunRecord(row);
  }

  /** Whether a run exists (without parsing it). */
  has(runId: number): boolean {
    return guard(`read run ${runId}`, this.file, () => this.selectRun.get(runId) !== undefined);
  }

  /**
   * One run's curves, each ordered by step, optionally only one kind and/or domain and a step
   * range; tokens and wall time come from the step's progress row, for plotting against either.
   * Arrays may be shared between series of the result (the common step axis): treat them as
   * read-only.
   */
  curves(runId: number, query: CurveQuery = {}): RunCurves {
    const from = query.fromStep ?? 0;
    const to = query.toStep ?? MAX_STEP;
    return this.snapshot(() => {
      const seriesRows = this.selectSeries.all({ runId, kind: query.kind ?? null, domain: query.domain ?? null });
      if (seriesRows.length === 0) {
        if (!this.has(runId)) throw new NotFoundError(`there is no run ${runId}`);
        return { runId, series: [] };
      }
      const timeline: Timeline = {
        steps: this.pluckTimelineSteps.all(runId, from, to),
        tokens: this.pluckTimelineTokens.all(runId, from, to),
        wallMs: this.pluckTimelineWall.all(runId, from, to),
      };
      const series = seriesRows.map((s): MetricSeries => {
        const steps = this.seriesSteps(s.id, from, to, timeline.steps);
        const values = this.pluckValues.all(s.id, from, to) as number[];
        for (let i = 0; i < values.length; i++) if (values[i] === null) values[i] = Number.NaN;
        return { runId, kind: s.kind, domain: s.domain, steps, values, ...progressAt(steps, timeline) };
      });
      return { runId, series };
    });
  }

  /**
   * A series' steps. Most series have a value at every step of a range (train loss, and in dense
   * logging every metric): then count = max - min + 1 proves the steps are exactly that range
   * (steps are unique integers), and the timeline's array, or a generated one, stands in for
   * reading them row by row.
   */
  private seriesSteps(seriesId: number, from: number, to: number, timelineSteps: number[]): number[] {
    const range = this.seriesRange.get(seriesId, from, to)!;
    if (range.n === 0 || range.lo === null || range.hi === null) return [];
    if (range.n !== range.hi - range.lo + 1) return this.pluckSteps.all(seriesId, from, to);
    if (timelineSteps.length === range.n && timelineSteps[0] === range.lo && timelineSteps[range.n - 1] === range.hi) return timelineSteps;
    return Array.from({ length: range.n }, (_, i) => range.lo! + i);
  }

  /** The runs of one baseline suite (RunLaunch.suite.key), in the suite's order. */
  suiteMembers(key: string): RunSummary[] {
    return guard('list the runs of a suite', this.file, () => this.selectSuite.all(key)).map(toRunSummary);
  }

  /** The same curve (kind, and domain when given) for several runs, for side-by-side plots. */
  compare(runIds: readonly number[], query: CurveQuery & { kind: string }): MetricSeries[] {
    return this.snapshot(() => runIds.flatMap((id) => this.curves(id, query).series));
  }

  decisions(runId: number): Decision[] {
    return guard(`read the decisions of run ${runId}`, this.file, () => this.selectDecisions.all(runId)).map(toDecision);
  }

  /** What each decision predicted and what was measured, per domain, in decision order. */
  outcomes(runId: number): DecisionOutcome[] {
    return guard(`read the decision outcomes of run ${runId}`, this.file, () => this.selectOutcomes.all(runId));
  }

  /** Complete checkpoints only, unless asked: an incomplete one is never offered for loading. */
  checkpoints(runId: number, options: { includeIncomplete?: boolean } = {}): CheckpointRecord[] {
    const minComplete = options.includeIncomplete ? 0 : 1;
    return guard(`read the checkpoints of run ${runId}`, this.file, () => this.selectCheckpoints.all(runId, minComplete)).map(toCheckpoint);
  }

  /** The loop state saved with a complete checkpoint. */
  checkpointState(runId: number, step: number): unknown {
    const row = guard(`read the checkpoint of run ${runId}`, this.file, () => this.selectCheckpointState.get(runId, step));
    if (!row) throw new NotFoundError(`run ${runId} has no complete checkpoint at step ${step}`);
    return JSON.parse(row.state) as unknown;
  }

  /** Events of a run in order; `afterId` pages forward (live tails pass the last id they saw). */
  events(runId: number, options: { afterId?: number; limit?: number } = {}): RunEvent[] {
    return guard(`read the events of run ${runId}`, this.file, () => this.selectEvents.all(runId, options.afterId ?? 0, options.limit ?? 1000)).map(toEvent);
  }
}
