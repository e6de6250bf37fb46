// What phase 2 added to the store: rewindTo (backtracking deletes a branch's rows while the run
// keeps running), launch details and suite membership, a checkpoint written now and completed
// later (the loop's state arrives after the file), a run started before its device is known, and
// the full check of a store with its checkpoint files.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointFiles } from '../../../src/main/store/checkpoints';
import { RunStateError } from '../../../src/main/store/errors';
import { checkStore } from '../../../src/main/store/integrity';
import type { Store } from '../../../src/main/store/index';
import type { MetricValue } from '../../../src/main/store/types';
import { tempDir } from '../../helpers/temp';
import { createRun, openStore } from './helpers';

const dir = tempDir('dynamics-store-rewind-');
let n = 0;
const fresh = () => openStore(path.join(dir, `rewind-${++n}.db`));

function record(store: Store, runId: number, from: number, to: number): void {
  const writer = store.writerFor(runId);
  for (let step = from; step <= to; step++) {
    const values: MetricValue[] = [{ kind: 'train_loss', value: step }];
    if (step % 4 === 0) values.push({ kind: 'eval_loss', domain: 'code', value: step / 2 });
    writer.metrics.record(step, { tokens: step * 100, wallMs: step }, values);
    if (step % 4 === 0) writer.decision({ step, horizon: 4, weights: [1, 0], slopes: null, losses: null, predicted: null, status: 'fixed', solver: {}, binding: [] });
  }
  writer.metrics.flush();
}

function checkpoint(store: Store, files: CheckpointFiles, runId: number, step: number): void {
  const writer = store.writerFor(runId);
  const written = files.write(writer, { step, meta: { step }, payload: new Uint8Array([step, 1, 2]) });
  // Not selectable until the state arrives.
  expect(store.reader.checkpoints(runId).map((c) => c.step)).not.toContain(step);
  writer.completeCheckpoint(step, { sha256: written.sha256, bytes: written.bytes, state: { step } });
}

describe('store additions for the trainer process', () => {
  it('rewinds a running run to a checkpoint: later rows and the decision there go, the status stays', () => {
    const store = fresh();
    const files = new CheckpointFiles(path.join(dir, `runs-${n}`));
    const id = createRun(store);
    store.runs.start(id, null);
    expect(store.reader.get(id)).toMatchObject({ status: 'running', device: null });
    expect(store.reader.events(id).map((e) => e.message)).toEqual(['started']);
    store.runs.setDevice(id, 'cpu', 'the CPU was requested');
    record(store, id, 0, 12);
    checkpoint(store, files, id, 4);
    checkpoint(store, files, id, 8);
    store.writerFor(id).event('warn', 'late', { step: 10 });

    expect(() => store.runs.rewindTo(id, 5)).toThrow(/has no complete checkpoint at step 5 to go back to/);
    const { removedCheckpointPaths, progress } = store.runs.rewindTo(id, 4);
    expect(removedCheckpointPaths).toEqual([`${id}/checkpoints/step-00000008.ckpt`]);
    expect(progress).toEqual({ step: 4, tokens: 400, wallMs: 4 });
    files.remove(removedCheckpointPaths);
    const run = store.reader.get(id);
    expect(run).toMatchObject({ status: 'running', lastStep: 4, tokensSeen: 400 });
    expect(store.reader.curves(id, { kind: 'train_loss' }).series[0]!.steps).toEqual([0, 1, 2, 3, 4]);
    expect(store.reader.decisions(id).map((d) => d.step)).toEqual([0]); // the decision at 4 is taken again
    expect(store.reader.events(id).filter((e) => e.step !== null)).toEqual([]);
    // The new branch writes the same steps again without conflicts.
    record(store, id, 5, 12);
    store.writerFor(id).decision({ step: 4, horizon: 4, weights: [0, 1], slopes: null, losses: null, predicted: null, status: 'fixed', solver: {}, binding: [] });
    checkpoint(store, files, id, 8);
    expect(store.reader.checkpoints(id).map((c) => c.step)).toEqual([4, 8]);

    store.runs.setStatus(id, 'paused');
    expect(() => store.runs.rewindTo(id, 4)).toThrow(RunStateError);
    store.close();
  });

  it('keeps launch details and finds the runs of a suite in order', () => {
    const store = fresh();
    const make = (index: number, key: string) =>
      store.runs.create({
        name: 'suite', config: {}, strategy: `s${index}`, seed: 1,
        launch: { baseDir: '/data/configs', configFile: '/data/configs/a.yaml', suite: { key, index, size: 3, label: `s${index}` } },
      });
    const ids = [make(2, 'k1'), make(0, 'k1'), make(1, 'k2'), make(1, 'k1')];
    const plain = createRun(store);
    expect(store.reader.get(ids[0]!).launch).toEqual({ baseDir: '/data/configs', configFile: '/data/configs/a.yaml', suite: { key: 'k1', index: 2, size: 3, label: 's2' } });
    expect(store.reader.get(plain).launch).toBeNull();
    expect(store.reader.suiteMembers('k1').map((r) => r.strategy)).toEqual(['s0', 's1', 's2']);
    expect(store.reader.suiteMembers('nope')).toEqual([]);
    store.close();
  });

  it('checks a store whole: damaged checkpoint files are errors, crash leftovers warnings', () => {
    const store = fresh();
    const files = new CheckpointFiles(path.join(dir, `runs-${n}`));
    const id = createRun(store);
    store.runs.start(id, null);
    record(store, id, 0, 8);
    checkpoint(store, files, id, 4);
    checkpoint(store, files, id, 8);
    store.runs.setStatus(id, 'interrupted', 'killed');
    let report = checkStore(store, files, { isActive: () => false });
    expect(report).toMatchObject({ ok: true, runs: 1, checkpointsVerified: 2, findings: [] });

    // A crash's leftovers: a temp file and a file the store never completed; a folder of a deleted run.
    writeFileSync(path.join(files.folder(id), '.step-00000012.ckpt.123.abcd.tmp'), 'x');
    writeFileSync(path.join(files.folder(id), 'step-00000012.ckpt'), 'x');
    mkdirSync(path.join(files.runsDir, '999'), { recursive: true });
    // A checkpoint damaged after it was saved.
    writeFileSync(files.absolute(store.reader.checkpoints(id)[1]!.path), 'not the bytes that were saved');
    report = checkStore(store, files, { isActive: () => false });
    expect(report.ok).toBe(false);
    expect(report.checkpointsVerified).toBe(1);
    expect(report.findings.map((f) => f.severity)).toEqual(['error', 'warning', 'warning']);
    expect(report.findings[0]!.message).toMatch(new RegExp(`^run ${id}: the checkpoint .*step-00000008\\.ckpt cannot be used: .*; a resume skips it`));
    expect(report.findings[1]!.message).toMatch(/has 2 checkpoint files the store does not list \(left by a crash/);
    expect(report.findings[2]!.message).toMatch(/holds 999\/, which belongs to no run/);

    // A run marked running with no process is pointed out.
    const other = createRun(store);
    store.runs.start(other, null);
    expect(checkStore(store, files, { isActive: () => false }).findings.some((f) => f.runId === other && /marked running, but no trainer process runs it/.test(f.message))).toBe(true);
    store.close();
  });
});
