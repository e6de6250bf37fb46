// runs.*: the runs the store holds, read for the UI (list, details, curves downsampled for charts,
// decisions, the log, comparisons, CSV) and controlled through the run supervisor (start, pause,
// resume, cancel). Reads go straight to the store's reader; lifecycle writes to its run store.
import { NotFoundError, UserError } from '../../shared/errors';
import type { CheckpointRecord, CurveQuery, Decision, DecisionOutcome, MetricSeries, ReferenceRecord, RunListFilter, RunLogEvent, RunPlan, RunRecord, RunReport, RunSummary } from '../../shared/runs';
import type { ConfigDiffRow, CurveSeries, RunComparison, RunDecisions, RunDetails, RunListPage, RunSortKey } from '../../shared/services/runs';
import { lttbIndices } from '../../shared/lttb';
import { forDrawing, pick } from './downsample';
import type { EventSink } from './models';
import { configDiff, CSV_HEADER, csvLines, sortRuns } from './run-tables';

/** What the service reads (the store's RunReader). */
export interface RunQueries {
  list(filter?: RunListFilter): RunSummary[];
  get(runId: number): RunRecord;
  curves(runId: number, query?: CurveQuery): { runId: number; series: MetricSeries[] };
  decisions(runId: number): Decision[];
  outcomes(runId: number): DecisionOutcome[];
  checkpoints(runId: number): CheckpointRecord[];
  events(runId: number, options?: { afterId?: number; limit?: number }): RunLogEvent[];
  snapshot<T>(fn: () => T): T;
}

/** Lifecycle writes that need no process (the store's RunStore). */
export interface RunEdits {
  setTags(runId: number, tags: readonly string[]): void;
  rename(runId: number, name: string): void;
  /** Returns the run's checkpoint files (relative paths) for the caller to remove. */
  delete(runId: number): string[];
}

/** What starts, pauses, resumes and cancels trainer processes (the run supervisor). */
export interface RunControl {
  /** Creates the run (or the suite's runs), starts training, returns their ids. */
  start(config: unknown, options: { suite: boolean }): Promise<number[]>;
  pause(runId: number): Promise<void>;
  resume(runId: number): Promise<void>;
  cancel(runId: number): Promise<void>;
}

export interface RunsServiceDeps {
  reader: RunQueries;
  edits: RunEdits;
  /**
   * Removes a deleted run's files: its checkpoints by their stored relative paths, then its whole
   * folder (report, pid file, checkpoints/), as `dynamics runs delete` does.
   */
  removeRunFiles: (runId: number, checkpointPaths: readonly string[]) => void;
  control: RunControl | null;
  events: EventSink;
}

/** Events the trainer records with plain data the UI needs (see the store sink). */
interface KindData {
  kind?: string;
  plan?: RunPlan;
  references?: ReferenceRecord;
  report?: RunReport;
}

/** At most this many CSV rows per export (about 100 MB of text). */
export const MAX_CSV_ROWS = 2_000_000;

const RESUMABLE = new Set(['paused', 'interrupted', 'failed']);

/**
 * Downsampled curves of runs that no trainer is writing are kept, keyed by what was asked and
 * checked against the run's status and last update (a resume, a delete or a rename changes them),
 * up to this many points in all. Reading 20 runs × 10,000 steps × 4 domains from SQLite takes
 * about a second here; a comparison opened again should not pay it twice.
 */
export const CURVE_CACHE_POINTS = 4_000_000;
const LIVE = new Set(['running', 'created']);

interface CachedCurves {
  version: string;
  series: CurveSeries[];
  points: number;
}

function summaryOf(r: RunRecord): RunSummary {
  const { config: _c, sources: _s, domains: _d, appVersion: _a, deviceReason: _r, modelId: _m, launch: _l, ...summary } = r;
  return summary;
}

export class RunsService {
  private readonly curveCache = new Map<string, CachedCurves>();
  private cachedPoints = 0;

  constructor(private readonly deps: RunsServiceDeps) {}

  /** One run's curves for a query, downsampled; from the cache when the run is not being written. */
  private runCurves(run: RunSummary, query: CurveQuery, maxPoints: number): CurveSeries[] {
    // Every domain ('*') is not the run-wide series' domain ('=' + '').
    const domain = query.domain === undefined ? '*' : `=${query.domain}`;
    const keyOf = (kind: string | undefined) => `${run.id}|${kind ?? '*'}|${domain}|${query.fromStep ?? ''}|${query.toStep ?? ''}|${maxPoints}`;
    const key = keyOf(query.kind);
    const version = `${run.status}|${run.updatedAt}|${run.lastStep ?? ''}`;
    const hit = this.curveCache.get(key);
    if (hit && hit.version === version) {
      // Most recently used last, so eviction takes the oldest first.
      this.curveCache.delete(key);
      this.curveCache.set(key, hit);
      return hit.series;
    }
    if (hit) {
      this.curveCache.delete(key);
      this.cachedPoints -= hit.points;
    }
    if (LIVE.has(run.status)) return this.downsampled(this.deps.reader.curves(run.id, query).series, maxPoints);
    if (query.kind === undefined || query.domain !== undefined) {
      const series = this.downsampled(this.deps.reader.curves(run.id, query).series, maxPoints);
      this.remember(key, version, series);
      return series;
    }
    // A finished run asked for one kind: every kind is read at once and kept, each under its own
    // key. The compare view asks for eval and training loss in two calls, and the run's timeline
    // (tokens and wall time per step) is then read from SQLite once instead of once per kind.
    const { kind: _kind, ...allKinds } = query;
    const byKind = new Map<string, CurveSeries[]>([[query.kind, []]]);
    for (const s of this.downsampled(this.deps.reader.curves(run.id, allKinds).series, maxPoints)) byKind.set(s.kind, [...(byKind.get(s.kind) ?? []), s]);
    for (const [kind, series] of byKind) this.remember(keyOf(kind), version, series);
    return byKind.get(query.kind)!;
  }

  private remember(key: string, version: string, series: CurveSeries[]): void {
    const old = this.curveCache.get(key);
    if (old) {
      this.curveCache.delete(key);
      this.cachedPoints -= old.points;
    }
    const points = series.reduce((n, s) => n + s.steps.length, 0);
    this.curveCache.set(key, { version, series, points });
    this.cachedPoints += points;
    for (const [k, v] of this.curveCache) {
      if (this.cachedPoints <= CURVE_CACHE_POINTS) break;
      this.curveCache.delete(k);
      this.cachedPoints -= v.points;
    }
  }

  list(input: { status?: RunSummary['status'][] | undefined; tag?: string | undefined; strategy?: string | undefined; search?: string | undefined; sort: RunSortKey; direction: 'asc' | 'desc'; limit: number; offset: number }): RunListPage {
    const all = this.deps.reader.list();
    const tags = [...new Set(all.flatMap((r) => r.tags))].sort();
    const strategies = [...new Set(all.map((r) => r.strategy))].sort();
    const search = input.search?.trim().toLowerCase();
    const matching = all.filter(
      (r) =>
        (!input.status || input.status.length === 0 || input.status.includes(r.status)) &&
        (input.tag === undefined || r.tags.includes(input.tag)) &&
        (input.strategy === undefined || r.strategy === input.strategy) &&
        (!search || r.name.toLowerCase().includes(search)),
    );
    sortRuns(matching, input.sort, input.direction);
    return { runs: matching.slice(input.offset, input.offset + input.limit), total: matching.length, tags, strategies };
  }

  /** The plan, references and report the trainer recorded as events. */
  private recorded(runId: number): { plan: RunPlan | null; references: ReferenceRecord | null; report: RunReport | null } {
    const out = { plan: null as RunPlan | null, references: null as ReferenceRecord | null, report: null as RunReport | null };
    let afterId = 0;
    for (;;) {
      const page = this.deps.reader.events(runId, { afterId, limit: 1000 });
      for (const e of page) {
        const d = e.data as KindData | null;
        if (!d || typeof d !== 'object') continue;
        if (d.kind === 'plan' && d.plan) out.plan = d.plan;
        else if (d.kind === 'references' && d.references) out.references = d.references;
        else if (d.kind === 'report' && d.report) out.report = d.report;
      }
      if (page.length < 1000) return out;
      afterId = page[page.length - 1]!.id;
    }
  }

  get(id: number): RunDetails {
    return this.deps.reader.snapshot(() => {
      const run = this.deps.reader.get(id);
      const { plan, references, report } = this.recorded(id);
      // An external trainer's run is paused and resumed by that trainer, not from here.
      const controlled = this.deps.control !== null;
      const local = controlled && !run.launch?.external;
      return {
        run, plan, references, report,
        checkpoints: this.deps.reader.checkpoints(id),
        can: {
          pause: local && run.status === 'running',
          resume: local && RESUMABLE.has(run.status),
          cancel: controlled && (run.status === 'running' || run.status === 'paused' || run.status === 'interrupted' || run.status === 'created'),
          delete: run.status !== 'running',
        },
      };
    });
  }

  private downsampled(series: MetricSeries[], maxPoints: number): CurveSeries[] {
    return series.map((s) => {
      const idx = lttbIndices(s.steps, s.values, maxPoints);
      if (idx.length === s.steps.length) return { ...s, rawPoints: s.steps.length, downsampled: false };
      return {
        runId: s.runId, kind: s.kind, domain: s.domain,
        steps: pick(s.steps, idx), values: forDrawing(pick(s.values, idx)), tokens: pick(s.tokens, idx), wallMs: pick(s.wallMs, idx),
        rawPoints: s.steps.length, downsampled: true,
      };
    });
  }

  private query(input: { kind?: string | undefined; domain?: string | undefined; fromStep?: number | undefined; toStep?: number | undefined }): CurveQuery {
    return {
      ...(input.kind !== undefined ? { kind: input.kind } : {}),
      ...(input.domain !== undefined ? { domain: input.domain } : {}),
      ...(input.fromStep !== undefined ? { fromStep: input.fromStep } : {}),
      ...(input.toStep !== undefined ? { toStep: input.toStep } : {}),
    };
  }

  curves(input: { id: number; kind?: string | undefined; domain?: string | undefined; fromStep?: number | undefined; toStep?: number | undefined; maxPoints: number }): { runId: number; series: CurveSeries[] } {
    return this.deps.reader.snapshot(() => {
      const run = summaryOf(this.deps.reader.get(input.id));
      return { runId: run.id, series: this.runCurves(run, this.query(input), input.maxPoints) };
    });
  }

  compare(input: { ids: number[]; kind: string; domain?: string | undefined; fromStep?: number | undefined; toStep?: number | undefined; maxPoints: number }): RunComparison {
    const ids = [...new Set(input.ids)];
    return this.deps.reader.snapshot(() => {
      const runs = ids.map((id) => summaryOf(this.deps.reader.get(id)));
      const query = this.query(input);
      return { runs, series: runs.flatMap((run) => this.runCurves(run, query, input.maxPoints)) };
    });
  }

  configDiff(ids: number[]): ConfigDiffRow[] {
    return configDiff(ids.map((id) => this.deps.reader.get(id).config));
  }

  decisions(id: number): RunDecisions {
    return this.deps.reader.snapshot(() => {
      const run = this.deps.reader.get(id);
      const { references } = this.recorded(id);
      return { runId: id, sources: run.sources, domains: run.domains, references: references?.references ?? null, baseLosses: references?.baseLosses ?? null, decisions: this.deps.reader.decisions(id), outcomes: this.deps.reader.outcomes(id) };
    });
  }

  decisionsOf(ids: number[]): RunDecisions[] {
    return this.deps.reader.snapshot(() => [...new Set(ids)].map((id) => this.decisions(id)));
  }

  events(id: number, afterId: number | undefined, limit: number): RunLogEvent[] {
    if (!this.deps.reader.snapshot(() => this.deps.reader.get(id))) throw new NotFoundError(`there is no run ${id}`);
    return this.deps.reader.events(id, { ...(afterId !== undefined ? { afterId } : {}), limit });
  }

  private control(): RunControl {
    if (!this.deps.control) throw new UserError('runs cannot be started or controlled from here: this build has no run supervisor');
    return this.deps.control;
  }

  private summary(id: number): RunSummary {
    return summaryOf(this.deps.reader.get(id));
  }

  async start(config: unknown, suite: boolean): Promise<{ runIds: number[] }> {
    return { runIds: await this.control().start(config, { suite }) };
  }

  async pause(id: number): Promise<RunSummary> {
    await this.control().pause(id);
    return this.summary(id);
  }

  async resume(id: number): Promise<RunSummary> {
    await this.control().resume(id);
    return this.summary(id);
  }

  async cancel(id: number): Promise<RunSummary> {
    await this.control().cancel(id);
    return this.summary(id);
  }

  delete(id: number): void {
    const paths = this.deps.edits.delete(id);
    for (const [k, v] of this.curveCache) {
      if (!k.startsWith(`${id}|`)) continue;
      this.curveCache.delete(k);
      this.cachedPoints -= v.points;
    }
    this.deps.removeRunFiles(id, paths);
    this.deps.events.emit('run.status', { runId: id, status: 'deleted', reason: null });
  }

  setTags(id: number, tags: string[]): RunSummary {
    this.deps.edits.setTags(id, tags.map((t) => t.trim()).filter((t) => t.length > 0));
    return this.summary(id);
  }

  rename(id: number, name: string): RunSummary {
    this.deps.edits.rename(id, name);
    return this.summary(id);
  }

  exportCsv(ids: number[], kind: string | undefined): { fileName: string; text: string } {
    const unique = [...new Set(ids)];
    const lines: string[] = [CSV_HEADER];
    this.deps.reader.snapshot(() => {
      for (const id of unique) {
        const run = this.deps.reader.get(id);
        const series = this.deps.reader.curves(id, kind !== undefined ? { kind } : {}).series;
        const rows = series.reduce((n, s) => n + s.steps.length, 0);
        if (lines.length - 1 + rows > MAX_CSV_ROWS) {
          throw new UserError(`the export would hold more than ${MAX_CSV_ROWS.toLocaleString('en-US')} rows; export fewer runs or one metric kind at a time`);
        }
        csvLines(run, series, lines);
      }
    });
    const fileName = unique.length === 1 ? `run-${unique[0]}.csv` : `runs-${unique.slice(0, 5).join('-')}${unique.length > 5 ? '-etc' : ''}.csv`;
    return { fileName, text: `${lines.join('\n')}\n` };
  }
}
