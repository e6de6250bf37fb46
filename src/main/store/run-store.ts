// Run lifecycle writes: create, start, status changes, resume, score, tags, delete. Used by the
// supervisor, the CLI and the trainer. Every read-then-write runs in an IMMEDIATE transaction, so
// two processes changing the same run (the trainer finishing it while the supervisor sees the
// process die) serialize instead of overwriting each other.
import type { Database, Statement } from 'better-sqlite3';
import { NotFoundError } from '../../shared/errors';
import { guard, RunStateError } from './errors';
import { allowedSources, canResume, canTransition, FINISHING, RESUMABLE } from './lifecycle';
import { parseJsonColumn } from './rows';
import type { CheckpointRecord, Clock, EventLevel, NewRun, RunScore, RunStatus } from './types';

export interface RunStoreOptions {
  appVersion: string;
  clock?: Clock;
}

export interface ResumePoint {
  runId: number;
  /** The checkpoint step the loop continues after; null when restarting from the beginning. */
  step: number | null;
  checkpoint: CheckpointRecord | null;
  /** The loop state recorded with that checkpoint. */
  state: unknown;
  /** Checkpoint files (relative paths) whose rows were dropped: later steps and incomplete saves. */
  removedCheckpointPaths: string[];
}

export const RUN_LIMITS = { name: 256, tags: 32, tag: 64, message: 4096 } as const;

function checkName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > RUN_LIMITS.name) throw new RangeError(`a run name must have 1 to ${RUN_LIMITS.name} characters`);
  return trimmed;
}

function checkTags(tags: readonly string[]): string {
  if (tags.length > RUN_LIMITS.tags) throw new RangeError(`a run has at most ${RUN_LIMITS.tags} tags`);
  for (const tag of tags) {
    if (typeof tag !== 'string' || tag.length === 0 || tag.length > RUN_LIMITS.tag) throw new RangeError(`a tag must have 1 to ${RUN_LIMITS.tag} characters`);
  }
  return JSON.stringify([...new Set(tags)]);
}

function jsonOrThrow(value: unknown, what: string): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError(`${what} is not JSON-serializable`);
  return text;
}

function boolFlag(value: boolean | null): number | null {
  return value === null ? null : value ? 1 : 0;
}

interface StatusRow {
  status: RunStatus;
}

export class RunStore {
  private readonly clock: Clock;
  private readonly file: string;
  private readonly insertRun: Statement;
  private readonly selectStatus: Statement<[number], StatusRow>;
  private readonly updateStatus: Statement;
  private readonly updateStart: Statement;
  private readonly updateDevice: Statement;
  private readonly updateScore: Statement;
  private readonly updateTags: Statement;
  private readonly updateName: Statement;
  private readonly insertEvent: Statement;
  private readonly selectCheckpoint: Statement<[number, number], { path: string; sha256: string; bytes: number; feasible: number | null; losses: string | null; state: string; created_at: number }>;
  private readonly deleteMetricsAfter: Statement;
  private readonly deleteStepsAfter: Statement;
  private readonly deleteDecisionsAfter: Statement;
  private readonly deleteOutcomesAfter: Statement;
  private readonly deleteEventsAfter: Statement;
  private readonly selectDroppedCheckpoints: Statement<[number, number], { path: string }>;
  private readonly deleteCheckpointsAfter: Statement;
  private readonly selectProgressAt: Statement<[number, number], { tokens: number; wall_ms: number }>;
  private readonly selectProgressUpTo: Statement<[number, number], { step: number; tokens: number; wall_ms: number }>;
  private readonly updateRewound: Statement;
  private readonly updateResumed: Statement;
  private readonly selectAllCheckpointPaths: Statement<[number], { path: string }>;
  private readonly deleteRun: Statement;

  constructor(private readonly db: Database, private readonly options: RunStoreOptions) {
    this.clock = options.clock ?? Date.now;
    this.file = db.name;
    this.insertRun = db.prepare(`INSERT INTO runs (name, config, strategy, seed, model_id, sources, domains, tags, total_steps, app_version, launch, created_at, updated_at)
      VALUES (@name, @config, @strategy, @seed, @modelId, @sources, @domains, @tags, @totalSteps, @appVersion, @launch, @now, @now)`);
    this.selectStatus = db.prepare('SELECT status FROM runs WHERE id = ?');
    this.updateStatus = db.prepare(`UPDATE runs SET status = @status, status_reason = @reason, updated_at = @now,
      finished_at = CASE WHEN @finishing THEN @now ELSE finished_at END WHERE id = @id`);
    this.updateStart = db.prepare(`UPDATE runs SET status = 'running', status_reason = NULL, started_at = @now, updated_at = @now,
      device = @device, device_reason = @deviceReason WHERE id = @id`);
    this.updateDevice = db.prepare('UPDATE runs SET device = @device, device_reason = @deviceReason, updated_at = @now WHERE id = @id');
    this.updateScore = db.prepare(`UPDATE runs SET feasible = @feasible, target_gain = @targetGain, max_violation = @maxViolation,
      cost_multiple = @costMultiple, selected_step = @selectedStep, updated_at = @now WHERE id = @id`);
    this.updateTags = db.prepare('UPDATE runs SET tags = @tags, updated_at = @now WHERE id = @id');
    this.updateName = db.prepare('UPDATE runs SET name = @name, updated_at = @now WHERE id = @id');
    this.insertEvent = db.prepare('INSERT INTO events (run_id, at, level, message, step, data) VALUES (?, ?, ?, ?, ?, ?)');
    this.selectCheckpoint = db.prepare('SELECT path, sha256, bytes, feasible, losses, state, created_at FROM checkpoints WHERE run_id = ? AND step = ? AND complete = 1');
    this.deleteMetricsAfter = db.prepare('DELETE FROM metrics WHERE series_id IN (SELECT id FROM metric_series WHERE run_id = ?) AND step > ?');
    this.deleteStepsAfter = db.prepare('DELETE FROM steps WHERE run_id = ? AND step > ?');
    // `>=`: a decision at step s is taken after the checkpoint at s (the checkpoint closes the
    // interval, the decision opens the next), so a loop resumed from s takes it again.
    this.deleteDecisionsAfter = db.prepare('DELETE FROM decisions WHERE run_id = ? AND step >= ?');
    this.deleteOutcomesAfter = db.prepare('DELETE FROM decision_outcomes WHERE run_id = ? AND measured_at > ?');
    this.deleteEventsAfter = db.prepare('DELETE FROM events WHERE run_id = ? AND step > ?');
    this.selectDroppedCheckpoints = db.prepare('SELECT path FROM checkpoints WHERE run_id = ? AND (step > ? OR complete = 0)');
    this.deleteCheckpointsAfter = db.prepare('DELETE FROM checkpoints WHERE run_id = ? AND (step > ? OR complete = 0)');
    this.selectProgressAt = db.prepare('SELECT tokens, wall_ms FROM steps WHERE run_id = ? AND step = ?');
    this.selectProgressUpTo = db.prepare('SELECT step, tokens, wall_ms FROM steps WHERE run_id = ? AND step <= ? ORDER BY step DESC LIMIT 1');
    this.updateRewound = db.prepare('UPDATE runs SET last_step = @lastStep, tokens_seen = @tokens, updated_at = @now WHERE id = @id');
    this.updateResumed = db.prepare(`UPDATE runs SET status = 'running', status_reason = @reason, last_step = @lastStep, tokens_seen = @tokens,
      duration_ms = @wallMs, finished_at = NULL, feasible = NULL, target_gain = NULL, max_violation = NULL, cost_multiple = NULL,
      selected_step = NULL, updated_at = @now WHERE id = @id`);
    this.selectAllCheckpointPaths = db.prepare('SELECT path FROM checkpoints WHERE run_id = ?');
    this.deleteRun = db.prepare('DELETE FROM runs WHERE id = ?');
  }

  /** Stores a new run (status `created`) and returns its id. */
  create(run: NewRun): number {
    const row = {
      name: checkName(run.name),
      config: jsonOrThrow(run.config, 'the run configuration'),
      strategy: run.strategy,
      seed: run.seed,
      modelId: run.modelId ?? null,
      sources: JSON.stringify(run.sources ?? []),
      domains: JSON.stringify(run.domains ?? []),
      tags: checkTags(run.tags ?? []),
      totalSteps: run.totalSteps ?? null,
      appVersion: this.options.appVersion,
      launch: run.launch ? jsonOrThrow(run.launch, 'the launch details') : null,
      now: this.clock(),
    };
    if (!Number.isSafeInteger(run.seed)) throw new RangeError('a run seed must be an integer');
    return guard(`save the run "${row.name}"`, this.file, () => Number(this.insertRun.run(row).lastInsertRowid));
  }

  private statusOf(runId: number): RunStatus {
    const row = this.selectStatus.get(runId);
    if (!row) throw new NotFoundError(`there is no run ${runId}`);
    return row.status;
  }

  /**
   * created → running, recording the device chosen and why; null when it is not known yet (the
   * supervisor marks a run running as it starts its trainer process, which records the device).
   */
  start(runId: number, device: { device: string; reason: string } | null): void {
    this.write(`start run ${runId}`, () => {
      const from = this.statusOf(runId);
      if (from !== 'created') throw new RunStateError(`run ${runId} is ${from}; only a newly created run can be started (resume it instead)`);
      this.updateStart.run({ id: runId, now: this.clock(), device: device?.device ?? null, deviceReason: device?.reason ?? null });
      this.logEvent(runId, 'info', device ? `started on ${device.device} (${device.reason})` : 'started', null, null);
    });
  }

  /** Any lifecycle change but start and resume; `reason` is shown to the user (e.g. "killed by SIGKILL"). */
  setStatus(runId: number, to: RunStatus, reason: string | null = null): void {
    this.write(`mark run ${runId} ${to}`, () => {
      const from = this.statusOf(runId);
      if (!canTransition(from, to)) {
        const hint = to === 'running' && canResume(from) ? '; resume it from a checkpoint instead' : '';
        throw new RunStateError(`run ${runId} is ${from}; it cannot become ${to}${hint} (allowed from: ${allowedSources(to).join(', ') || 'nothing'})`);
      }
      const now = this.clock();
      this.updateStatus.run({ id: runId, status: to, reason, now, finishing: FINISHING.includes(to) ? 1 : 0 });
      const level: EventLevel = to === 'failed' ? 'error' : to === 'interrupted' ? 'warn' : 'info';
      this.logEvent(runId, level, `${from} → ${to}${reason ? `: ${reason}` : ''}`, null, null);
    });
  }

  setDevice(runId: number, device: string, reason: string): void {
    this.write(`record the device of run ${runId}`, () => {
      this.statusOf(runId);
      this.updateDevice.run({ id: runId, device, deviceReason: reason, now: this.clock() });
      this.logEvent(runId, 'info', `on ${device} (${reason})`, null, null);
    });
  }

  setScore(runId: number, score: RunScore): void {
    this.write(`save the score of run ${runId}`, () => {
      this.statusOf(runId);
      this.updateScore.run({ ...score, feasible: boolFlag(score.feasible), id: runId, now: this.clock() });
    });
  }

  setTags(runId: number, tags: readonly string[]): void {
    const json = checkTags(tags);
    this.write(`save the tags of run ${runId}`, () => {
      this.statusOf(runId);
      this.updateTags.run({ id: runId, tags: json, now: this.clock() });
    });
  }

  rename(runId: number, name: string): void {
    const checked = checkName(name);
    this.write(`rename run ${runId}`, () => {
      this.statusOf(runId);
      this.updateName.run({ id: runId, name: checked, now: this.clock() });
    });
  }

  /** An event not written by a trainer (lifecycle, supervisor, CLI); `runId` null for app-wide ones. */
  event(runId: number | null, level: EventLevel, message: string, options: { step?: number; data?: unknown } = {}): void {
    this.write('save an event', () => this.logEvent(runId, level, message, options.step ?? null, options.data ?? null));
  }

  private logEvent(runId: number | null, level: EventLevel, message: string, step: number | null, data: unknown): void {
    this.insertEvent.run(runId, this.clock(), level, message.slice(0, RUN_LIMITS.message), step, data === null ? null : jsonOrThrow(data, 'event data'));
  }

  /**
   * Deletes everything a run recorded after `step` (-1: everything): metric points, step progress,
   * decisions (from `step` on: the decision at a checkpoint's step comes after it), decision outcomes
   * measured after it, step-tagged
   * events, and checkpoint rows after it or never completed. Returns the dropped checkpoint paths.
   * Only inside a transaction: resumeFrom and rewindTo are the ways to call it.
   */
  deleteRowsAfter(runId: number, step: number): string[] {
    if (!this.db.inTransaction) throw new Error('deleteRowsAfter must run inside the transaction that marks the run resumed (use resumeFrom or rewindTo)');
    const dropped = this.selectDroppedCheckpoints.all(runId, step).map((r) => r.path);
    this.deleteMetricsAfter.run(runId, step);
    this.deleteStepsAfter.run(runId, step);
    this.deleteDecisionsAfter.run(runId, step);
    this.deleteOutcomesAfter.run(runId, step);
    this.deleteEventsAfter.run(runId, step);
    this.deleteCheckpointsAfter.run(runId, step);
    return dropped;
  }

  /**
   * Marks a paused, interrupted or failed run running again from its complete checkpoint at `step`
   * (null: from the beginning, when no checkpoint was saved), deleting every row after that step in
   * the same transaction. The caller removes the returned checkpoint files afterwards (a crash in
   * between only leaves files that removeStrayCheckpointFiles sweeps).
   */
  resumeFrom(runId: number, step: number | null): ResumePoint {
    return this.write(`resume run ${runId}`, () => {
      const from = this.statusOf(runId);
      if (!canResume(from)) {
        throw new RunStateError(`run ${runId} is ${from}; only a run that is ${RESUMABLE.join(', ')} can be resumed`);
      }
      let checkpoint: CheckpointRecord | null = null;
      let state: unknown = null;
      if (step !== null) {
        const row = this.selectCheckpoint.get(runId, step);
        if (!row) throw new RunStateError(`run ${runId} has no complete checkpoint at step ${step}`);
        checkpoint = {
          runId, step, path: row.path, complete: true, sha256: row.sha256, bytes: row.bytes,
          feasible: row.feasible === null ? null : row.feasible === 1,
          losses: parseJsonColumn<Record<string, number>>(row.losses, `checkpoints.losses of run ${runId} step ${step}`),
          createdAt: row.created_at,
        };
        state = parseJsonColumn<unknown>(row.state, `checkpoints.state of run ${runId} step ${step}`);
      }
      const removedCheckpointPaths = this.deleteRowsAfter(runId, step ?? -1);
      const progress = step === null ? undefined : this.selectProgressAt.get(runId, step);
      const reason = step === null ? 'restarted from the beginning' : `resumed from the checkpoint at step ${step}`;
      this.updateResumed.run({
        id: runId, reason, lastStep: step, tokens: progress?.tokens ?? 0, wallMs: progress?.wall_ms ?? 0, now: this.clock(),
      });
      this.logEvent(runId, 'info', `${from} → running: ${reason}`, null, null);
      return { runId, step, checkpoint, state, removedCheckpointPaths };
    });
  }

  /**
   * Backtracking, from the trainer writing a running run: the loop went back to its checkpoint at
   * `step` and trains from there again, so every row after it (and the decision at it, which is
   * taken again) is deleted, exactly as a resume would, without changing the status. The caller
   * flushes its buffered metrics first and removes the returned checkpoint files afterwards.
   */
  rewindTo(runId: number, step: number): { removedCheckpointPaths: string[]; progress: { step: number; tokens: number; wallMs: number } | null } {
    if (!Number.isSafeInteger(step) || step < 0) throw new RangeError(`a rewind step must be a non-negative integer (got ${step})`);
    return this.write(`take run ${runId} back to step ${step}`, () => {
      const from = this.statusOf(runId);
      if (from !== 'running') throw new RunStateError(`run ${runId} is ${from}; only a running run is taken back to a checkpoint (a stopped one is resumed)`);
      if (!this.selectCheckpoint.get(runId, step)) throw new RunStateError(`run ${runId} has no complete checkpoint at step ${step} to go back to`);
      const removedCheckpointPaths = this.deleteRowsAfter(runId, step);
      const row = this.selectProgressUpTo.get(runId, step);
      const progress = row ? { step: row.step, tokens: row.tokens, wallMs: row.wall_ms } : null;
      this.updateRewound.run({ id: runId, lastStep: row ? step : null, tokens: row?.tokens ?? 0, now: this.clock() });
      return { removedCheckpointPaths, progress };
    });
  }

  /** Deletes a run and all its rows; returns its checkpoint paths for the caller to remove. */
  delete(runId: number): string[] {
    return this.write(`delete run ${runId}`, () => {
      const from = this.statusOf(runId);
      if (from === 'running') throw new RunStateError(`run ${runId} is running; cancel it before deleting it`);
      const paths = this.selectAllCheckpointPaths.all(runId).map((r) => r.path);
      this.deleteRun.run(runId);
      return paths;
    });
  }

  /**
   * Makes every later run id larger than `id`. Ids are never reused within the database
   * (AUTOINCREMENT); this covers ids it cannot know, such as the folder of a run deleted before
   * schema version 3 that is still on disk.
   */
  keepIdsAbove(id: number): void {
    if (!Number.isSafeInteger(id) || id < 1) return;
    // Read first: the usual case changes nothing and should not wait for the write lock.
    const seq = this.db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'runs'").pluck().get() as number | undefined;
    if (seq !== undefined && seq >= id) return;
    this.write('reserve run ids', () => {
      const current = this.db.prepare("SELECT max(seq) FROM sqlite_sequence WHERE name = 'runs'").pluck().get() as number | null;
      this.db.prepare("DELETE FROM sqlite_sequence WHERE name = 'runs'").run();
      this.db.prepare("INSERT INTO sqlite_sequence (name, seq) VALUES ('runs', ?)").run(Math.max(current ?? 0, id));
    });
  }

  private write<T>(action: string, fn: () => T): T {
    return guard(action, this.file, () => this.db.transaction(fn).immediate());
  }
}
