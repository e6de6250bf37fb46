// Runs: creation, the lifecycle table, the runs list with its filters and summary columns,
// metrics and curves, decisions, events, resume (rows after the checkpoint deleted in the same
// transaction) and cascading delete, all on a real SQLite file.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../../../src/shared/errors';
import { RunStateError } from '../../../src/main/store/errors';
import type { Store } from '../../../src/main/store/index';
import type { Decision, MetricValue } from '../../../src/main/store/types';
import { tempDir } from '../../helpers/temp';
import { createRun, openStore } from './helpers';

const dir = tempDir('dynamics-store-runs-');
let n = 0;
const fresh = () => openStore(path.join(dir, `runs-${++n}.db`));

function decisionAt(step: number): Decision {
  return {
    step,
    horizon: 8,
    weights: [0.25, 0.75],
    slopes: [[-0.01, 0.002], [0.003, -0.001], [0.0, 0.004]],
    losses: [2.1, 1.7, 1.2],
    predicted: [2.0, 1.69, 1.21],
    status: 'feasible',
    solver: { name: 'lp', objective: -0.02 },
    binding: ['safety'],
  };
}

/** Records steps [from, to] of a run: train loss, eval loss per domain every 4 steps, a decision every 8. */
function train(store: Store, runId: number, from: number, to: number): void {
  const writer = store.writerFor(runId, { batchSize: 50 });
  for (let step = from; step <= to; step++) {
    const values: MetricValue[] = [{ kind: 'train_loss', value: 3 - step / 100 }];
    if (step % 4 === 0) for (const d of ['code', 'math', 'safety']) values.push({ kind: 'eval_loss', domain: d, value: step + d.length });
    writer.metrics.record(step, { tokens: step * 512, wallMs: step * 20 }, values);
    if (step % 8 === 0) writer.decision(decisionAt(step));
    if (step % 10 === 0) writer.event('info', `step ${step}`, { step });
  }
  writer.metrics.flush();
}

function saveCheckpointRow(store: Store, runId: number, step: number): void {
  const writer = store.writerFor(runId);
  writer.beginCheckpoint(step, `${runId}/checkpoints/step-${step}.ckpt`);
  writer.completeCheckpoint(step, { sha256: 'a'.repeat(64), bytes: 10, feasible: step > 0, losses: { code: 1 }, state: { step, rng: [1, 2] } });
}

describe('RunStore and RunReader', () => {
  it('creates a run and reads it back whole', () => {
    const store = fresh();
    const id = createRun(store, 'first');
    const run = store.reader.get(id);
    expect(run).toMatchObject({
      id, name: 'first', strategy: 'dynamics', seed: 7, status: 'created', tags: ['t1'], sources: ['a', 'b'], appVersion: '0.0.0-test',
      config: { steps: 100, note: 'test' }, lastStep: null, tokensSeen: 0, feasible: null, totalSteps: 100,
    });
    expect(run.domains.map((d) => d.role)).toEqual(['target', 'constraint', 'constraint']);
    expect(() => store.reader.get(999)).toThrow(NotFoundError);
  });

  it('enforces the lifecycle and explains refusals', () => {
    const store = fresh();
    const id = createRun(store);
    expect(() => store.runs.setStatus(id, 'paused')).toThrow(/run \d+ is created; it cannot become paused/);
    store.runs.start(id, { device: 'cpu', reason: 'CUDA EP not installed' });
    expect(store.reader.get(id)).toMatchObject({ status: 'running', device: 'cpu', deviceReason: 'CUDA EP not installed' });
    expect(() => store.runs.start(id, { device: 'cpu', reason: 'x' })).toThrow(RunStateError);
    store.runs.setStatus(id, 'interrupted', 'the trainer was killed by SIGKILL');
    expect(store.reader.get(id)).toMatchObject({ status: 'interrupted', statusReason: 'the trainer was killed by SIGKILL', finishedAt: null });
    expect(() => store.runs.setStatus(id, 'running')).toThrow(/resume it from a checkpoint instead/);
    store.runs.resumeFrom(id, null);
    store.runs.setStatus(id, 'completed');
    expect(store.reader.get(id).finishedAt).not.toBeNull();
    expect(() => store.runs.resumeFrom(id, null)).toThrow(/run \d+ is completed; only a run that is paused, interrupted, failed can be resumed/);
    const messages = store.reader.events(id).map((e) => e.message);
    expect(messages).toEqual([
      'started on cpu (CUDA EP not installed)',
      'running → interrupted: the trainer was killed by SIGKILL',
      'interrupted → running: restarted from the beginning',
      'running → completed',
    ]);
  });

  it('lists runs newest first with summary columns, filtered by status, tag and name', () => {
    const store = fresh();
    const ids = [0, 1, 2, 3].map((i) => createRun(store, `run ${i}`));
    expect(store.reader.list().map((r) => r.id)).toEqual([...ids].reverse());
    store.runs.start(ids[1]!, { device: 'cpu', reason: 'asked for' });
    store.runs.setTags(ids[2]!, ['baseline', 'fixed']);
    store.runs.setScore(ids[3]!, { feasible: true, targetGain: 0.08, maxViolation: -0.01, costMultiple: 1.4, selectedStep: 64 });
    store.runs.rename(ids[0]!, 'renamed');
    expect(store.reader.list({ status: 'running' }).map((r) => r.id)).toEqual([ids[1]]);
    expect(store.reader.list({ status: ['running', 'created'] })).toHaveLength(4);
    expect(store.reader.list({ tag: 'baseline' }).map((r) => r.id)).toEqual([ids[2]]);
    expect(store.reader.list({ search: 'RENAMED' }).map((r) => r.id)).toEqual([ids[0]]);
    expect(store.reader.list({ limit: 2, offset: 1 }).map((r) => r.id)).toEqual([ids[2], ids[1]]);
    expect(store.reader.list().find((r) => r.id === ids[3])).toMatchObject({ feasible: true, targetGain: 0.08, costMultiple: 1.4, selectedStep: 64 });
  });

  it('records metrics in batches and returns curves by step with tokens and wall time', () => {
    const store = fresh();
    const id = createRun(store);
    train(store, id, 0, 40);
    const run = store.reader.get(id);
    expect(run).toMatchObject({ lastStep: 40, tokensSeen: 40 * 512, durationMs: 40 * 20 });
    const { series } = store.reader.curves(id);
    expect(series.map((s) => `${s.kind}/${s.domain}`)).toEqual(['eval_loss/code', 'eval_loss/math', 'eval_loss/safety', 'train_loss/']);
    const math = series[1]!;
    expect(math.steps).toEqual(Array.from({ length: 11 }, (_, i) => i * 4));
    expect(math.values[2]).toBe(8 + 4);
    expect(math.tokens[2]).toBe(8 * 512);
    expect(math.wallMs[2]).toBe(8 * 20);
    const only = store.reader.curves(id, { kind: 'eval_loss', domain: 'code', fromStep: 10, toStep: 20 }).series;
    expect(only).toHaveLength(1);
    expect(only[0]!.steps).toEqual([12, 16, 20]);
    expect(store.reader.curves(id, { kind: 'nothing' }).series).toEqual([]);
    expect(() => store.reader.curves(12345)).toThrow(NotFoundError);
  });

  it('returns exact curves for every shape of series: full range, strided, partial, gapped, stepless', () => {
    const store = fresh();
    const id = createRun(store);
    const writer = store.writerFor(id, { batchSize: 7 });
    for (let step = 0; step <= 60; step++) {
      const values: MetricValue[] = [{ kind: 'train_loss', value: step / 2 }]; // every step: the timeline's own axis
      if (step % 5 === 0) values.push({ kind: 'eval_loss', domain: 'code', value: step + 0.5 }); // strided
      if (step >= 10 && step <= 20) values.push({ kind: 'probe', domain: 'math', value: -step }); // contiguous, partial
      if (step !== 33 && step > 30) values.push({ kind: 'lr', value: 1 / (step + 1) }); // one gap
      writer.metrics.record(step, step === 41 ? null : { tokens: step * 3, wallMs: step * 7 }, values); // step 41: no progress row
    }
    writer.metrics.record(70, null, [{ kind: 'late', value: 1 }]); // beyond the timeline
    writer.metrics.flush();
    const reference = store.db.prepare(`SELECT s.kind, s.domain, m.step, m.value, p.tokens, p.wall_ms FROM metrics m
      JOIN metric_series s ON s.id = m.series_id LEFT JOIN steps p ON p.run_id = s.run_id AND p.step = m.step
      WHERE s.run_id = ? AND m.step BETWEEN ? AND ? ORDER BY s.kind, s.domain, m.step`);
    for (const [from, to] of [[0, 100], [12, 35], [0, 0], [50, 60]] as const) {
      const got = store.reader.curves(id, { fromStep: from, toStep: to }).series.flatMap((s) =>
        s.steps.map((step, i) => ({ kind: s.kind, domain: s.domain, step, value: s.values[i], tokens: s.tokens[i], wall_ms: s.wallMs[i] })),
      );
      expect(got).toEqual(reference.all(id, from, to));
    }
  });

  it('keeps NaN and infinite values as such', () => {
    const store = fresh();
    const id = createRun(store);
    const writer = store.writerFor(id);
    writer.metrics.record(0, { tokens: 0, wallMs: 0 }, [{ kind: 'train_loss', value: Number.NaN }]);
    writer.metrics.record(1, { tokens: 1, wallMs: 1 }, [{ kind: 'train_loss', value: Number.POSITIVE_INFINITY }]);
    writer.metrics.flush();
    const values = store.reader.curves(id).series[0]!.values;
    expect(Number.isNaN(values[0])).toBe(true);
    expect(values[1]).toBe(Number.POSITIVE_INFINITY);
  });

  it('refuses a second value for the same (run, step, kind, domain) and keeps the first', () => {
    const store = fresh();
    const id = createRun(store);
    const writer = store.writerFor(id);
    writer.metrics.record(5, { tokens: 5, wallMs: 5 }, [{ kind: 'eval_loss', domain: 'code', value: 1 }]);
    writer.metrics.flush();
    const again = store.writerFor(id);
    again.metrics.record(5, null, [{ kind: 'eval_loss', domain: 'code', value: 2 }]);
    expect(() => again.metrics.flush()).toThrow(/already has a value for one of these metrics at the same step/);
    expect(store.reader.curves(id).series[0]!.values).toEqual([1]);
  });

  it('compares the same curve across runs', () => {
    const store = fresh();
    const a = createRun(store, 'a');
    const b = createRun(store, 'b');
    train(store, a, 0, 16);
    train(store, b, 0, 8);
    const series = store.reader.compare([a, b], { kind: 'eval_loss', domain: 'safety' });
    expect(series.map((s) => [s.runId, s.steps.length])).toEqual([[a, 5], [b, 3]]);
  });

  it('stores decisions with their vectors, slope matrix and solver details', () => {
    const store = fresh();
    const id = createRun(store);
    train(store, id, 0, 16);
    const decisions = store.reader.decisions(id);
    expect(decisions.map((d) => d.step)).toEqual([0, 8, 16]);
    expect(decisions[1]).toEqual(decisionAt(8));
  });

  it('offers only complete checkpoints, and their loop state', () => {
    const store = fresh();
    const id = createRun(store);
    const writer = store.writerFor(id);
    writer.beginCheckpoint(8, `${id}/checkpoints/step-8.ckpt`);
    expect(store.reader.checkpoints(id)).toEqual([]);
    expect(store.reader.checkpoints(id, { includeIncomplete: true }).map((c) => c.complete)).toEqual([false]);
    expect(() => store.reader.checkpointState(id, 8)).toThrow(NotFoundError);
    writer.completeCheckpoint(8, { sha256: 'b'.repeat(64), bytes: 3, state: { pos: 8 } });
    expect(store.reader.checkpoints(id)).toMatchObject([{ step: 8, complete: true, sha256: 'b'.repeat(64), bytes: 3 }]);
    expect(store.reader.checkpointState(id, 8)).toEqual({ pos: 8 });
    expect(() => writer.beginCheckpoint(8, 'again')).toThrow(/already has a complete checkpoint at step 8/);
  });

  it('resumes from a checkpoint: rows after it are deleted in the same transaction that marks the run running', () => {
    const store = fresh();
    const id = createRun(store);
    store.runs.start(id, { device: 'cpu', reason: 'test' });
    train(store, id, 0, 24);
    saveCheckpointRow(store, id, 16);
    saveCheckpointRow(store, id, 24);
    store.writerFor(id).beginCheckpoint(32, `${id}/checkpoints/step-32.ckpt`); // a save cut short
    store.runs.setStatus(id, 'interrupted', 'killed');
    const before = store.reader.curves(id);

    const point = store.runs.resumeFrom(id, 16);
    expect(point.state).toEqual({ step: 16, rng: [1, 2] });
    expect(point.checkpoint).toMatchObject({ step: 16, complete: true });
    expect(point.removedCheckpointPaths.sort()).toEqual([`${id}/checkpoints/step-24.ckpt`, `${id}/checkpoints/step-32.ckpt`]);
    const run = store.reader.get(id);
    expect(run).toMatchObject({ status: 'running', statusReason: 'resumed from the checkpoint at step 16', lastStep: 16, tokensSeen: 16 * 512, durationMs: 16 * 20 });
    const after = store.reader.curves(id);
    for (const [i, s] of after.series.entries()) {
      expect(s.steps).toEqual(before.series[i]!.steps.filter((step) => step <= 16));
    }
    // The decision at 16 was taken after the checkpoint at 16: the resumed loop takes it again.
    expect(store.reader.decisions(id).map((d) => d.step)).toEqual([0, 8]);
    expect(store.reader.checkpoints(id, { includeIncomplete: true }).map((c) => c.step)).toEqual([16]);
    expect(store.reader.events(id).filter((e) => e.step !== null).map((e) => e.step)).toEqual([0, 10]);
    // The resumed loop writes steps 17… again without conflicts.
    train(store, id, 17, 24);
    expect(store.reader.curves(id, { kind: 'train_loss' }).series[0]!.steps).toHaveLength(25);
  });

  it('leaves everything as it was when a resume is refused', () => {
    const store = fresh();
    const id = createRun(store);
    store.runs.start(id, { device: 'cpu', reason: 'test' });
    train(store, id, 0, 20);
    store.runs.setStatus(id, 'paused');
    const rows = () => store.db.prepare('SELECT (SELECT count(*) FROM metrics) + (SELECT count(*) FROM steps) + (SELECT count(*) FROM decisions)').pluck().get();
    const count = rows();
    expect(() => store.runs.resumeFrom(id, 12)).toThrow(/has no complete checkpoint at step 12/);
    expect(rows()).toBe(count);
    expect(store.reader.get(id).status).toBe('paused');
    expect(() => store.runs.deleteRowsAfter(id, 0)).toThrow(/inside the transaction/);
  });

  it('deletes a run with all its rows (cascade) but not while it runs', () => {
    const store = fresh();
    const keep = createRun(store, 'keep');
    const id = createRun(store, 'gone');
    train(store, keep, 0, 8);
    train(store, id, 0, 8);
    saveCheckpointRow(store, id, 8);
    store.runs.start(id, { device: 'cpu', reason: 'test' });
    expect(() => store.runs.delete(id)).toThrow(/is running; cancel it before deleting it/);
    store.runs.setStatus(id, 'cancelled', 'by the user');
    expect(store.runs.delete(id)).toEqual([`${id}/checkpoints/step-8.ckpt`]);
    for (const table of ['metric_series', 'steps', 'decisions', 'checkpoints', 'events']) {
      expect(store.db.prepare(`SELECT count(*) FROM ${table} WHERE run_id = ?`).pluck().get(id)).toBe(0);
    }
    expect(store.db.prepare('SELECT count(*) FROM metrics').pluck().get()).toBe(9 + 3 * 3);
    expect(store.reader.list().map((r) => r.name)).toEqual(['keep']);
  });

  it('keeps the catalog of datasets and models; deleting a model unlinks its runs', () => {
    const store = fresh();
    const ds = store.catalog.addDataset({ name: 'code', path: 'data/code.jsonl', format: 'jsonl-text', records: 10, info: { tokens: 1000 } });
    const model = store.catalog.addModel({ name: 'tiny', path: 'models/tiny', architecture: 'llama', parameters: 3_250_000 });
    expect(store.catalog.dataset(ds)).toMatchObject({ name: 'code', records: 10, info: { tokens: 1000 }, sha256: null });
    expect(store.catalog.models().map((m) => m.name)).toEqual(['tiny']);
    const runId = store.runs.create({ name: 'r', config: {}, strategy: 'dynamics', seed: 0, modelId: model });
    store.catalog.removeModel(model);
    expect(store.reader.get(runId).modelId).toBeNull();
    store.catalog.removeDataset(ds);
    expect(store.catalog.datasets()).toEqual([]);
    expect(() => store.catalog.model(model)).toThrow(NotFoundError);
  });
});
