// A full disk, made real two ways: a size-capped database (PRAGMA max_page_count makes SQLite
// return SQLITE_FULL exactly as on a full disk) and a writer process under `ulimit -f` (the kernel
// refuses writes past the cap with EFBIG). Each must give a sentence, lose nothing committed,
// keep the database intact, and (for metrics) keep the unsaved rows for a retry.
import { mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointFiles } from '../../../src/main/store/checkpoints';
import { checkIntegrity } from '../../../src/main/store/database';
import { DiskFullError, StoreError } from '../../../src/main/store/errors';
import { tempDir } from '../../helpers/temp';
import { createRun, openStore, spawnWriterWithFileLimit } from './helpers';

const dir = tempDir('dynamics-store-full-');
let n = 0;

function record(writer: ReturnType<ReturnType<typeof openStore>['writerFor']>, from: number, to: number): void {
  for (let step = from; step < to; step++) {
    writer.metrics.record(step, { tokens: step * 10, wallMs: step }, [
      { kind: 'eval_loss', domain: 'code', value: step / 3 },
      { kind: 'eval_loss', domain: 'math', value: step / 7 },
    ]);
  }
}

describe('a full disk', () => {
  it('stops a metrics flush with DiskFullError in words, keeps committed rows and the unsaved buffer', () => {
    const file = path.join(dir, `capped-${++n}.db`);
    const store = openStore(file);
    const runId = createRun(store);
    const writer = store.writerFor(runId, { batchSize: Number.MAX_SAFE_INTEGER });
    record(writer, 0, 1_000);
    writer.metrics.flush();

    const pages = store.db.pragma('page_count', { simple: true }) as number;
    store.db.pragma(`max_page_count = ${pages + 4}`);
    record(writer, 1_000, 20_000);
    const pending = writer.metrics.pending;
    let error: unknown;
    try {
      writer.metrics.flush();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DiskFullError);
    expect((error as Error).message).toMatch(
      new RegExp(`^the disk is full: could not save 38000 metric values of run ${runId} in .*capped-${n}\\.db \\(.+\\); free some space and retry — nothing already saved was lost$`),
    );
    expect(writer.metrics.pending).toBe(pending);
    checkIntegrity(store.db, file, 'full');
    const before = store.reader.curves(runId).series;
    expect(before.map((s) => s.steps.length)).toEqual([1_000, 1_000]);
    expect(store.reader.get(runId).lastStep).toBe(999);

    // Space comes back: the same buffer goes in, nothing was lost or doubled.
    store.db.pragma('max_page_count = 4294967294');
    expect(writer.metrics.flush()).toBe(pending);
    const after = store.reader.curves(runId).series;
    expect(after.map((s) => s.steps.length)).toEqual([20_000, 20_000]);
    expect(after[1]!.values[19_999]).toBe(19_999 / 7);
    store.close();
    const reopened = openStore(file);
    expect(reopened.reader.get(runId).lastStep).toBe(19_999);
    reopened.close();
  });

  it('refuses a lifecycle change that does not fit, leaving the run as it was', () => {
    const file = path.join(dir, `capped-${++n}.db`);
    const store = openStore(file);
    const runId = createRun(store);
    store.db.pragma(`max_page_count = ${store.db.pragma('page_count', { simple: true }) as number}`);
    // A 200 KB reason needs overflow pages the capped file cannot give.
    expect(() => store.runs.start(runId, { device: 'cpu', reason: 'r'.repeat(200_000) })).toThrow(/^the disk is full: could not start run \d+ in /);
    expect(store.reader.get(runId)).toMatchObject({ status: 'created', device: null });
    expect(store.reader.events(runId)).toEqual([]);
    checkIntegrity(store.db, file, 'full');
    store.close();
  });

  it('stops a database writer process at its file-size limit with a sentence, the database intact', async () => {
    const file = path.join(dir, `ulimit-${++n}.db`);
    const store = openStore(file);
    const runId = createRun(store);
    store.close();
    // 2048 blocks of 512 bytes: 1 MiB for the database and its WAL.
    const result = await spawnWriterWithFileLimit(2048, ['fill-db', file, String(runId)]);
    expect(result.code).toBe(3);
    const lines = result.stdout.trim().split('\n').map((l) => JSON.parse(l) as { committed?: number; error?: string; message?: string });
    const failure = lines.at(-1)!;
    const committed = Math.max(...lines.filter((l) => l.committed !== undefined).map((l) => l.committed!));
    expect(committed).toBeGreaterThan(1_000);
    expect(failure.error).toMatch(/^(DiskFull|DiskWrite)$/);
    expect(failure.message).toMatch(/^(the disk is full|the disk refused a write)[^\n]*could not save 1000 metric values of run/);

    const after = openStore(file); // integrity_check at open
    const steps = after.reader.curves(runId).series[0]!.steps;
    expect(steps.length).toBeGreaterThanOrEqual(committed + 1);
    expect(steps.length % 1000).toBe(0); // whole batches only
    after.close();
  });

  it('stops a checkpoint write at the file-size limit: a sentence, no partial file, the previous checkpoint still loads', async () => {
    const root = path.join(dir, `ckpt-${++n}`);
    mkdirSync(root);
    const file = path.join(root, 'db.sqlite');
    const runsDir = path.join(root, 'runs');
    const store = openStore(file);
    const runId = createRun(store);
    store.close();
    // Checkpoint k has k × 400 KiB of payload: the first fits under 1 MiB, the third cannot.
    const result = await spawnWriterWithFileLimit(2048, ['checkpoints', file, runsDir, String(runId), String(400 << 10), '3'], { GROW_CHECKPOINTS: '1' });
    expect(result.code).toBe(3);
    const failure = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { error: string; message: string };
    expect(failure.error).toBe('DiskFull');
    expect(failure.message).toMatch(
      /^the disk is full \(or the file-size limit was reached\): could not write the checkpoint step-0000000\d\.ckpt in .+ \(EFBIG: file too large.*\); free some space and retry — nothing already saved was lost$/,
    );

    const after = openStore(file);
    const files = new CheckpointFiles(runsDir);
    const complete = after.reader.checkpoints(runId);
    expect(complete.length).toBeGreaterThanOrEqual(1);
    expect(after.reader.checkpoints(runId, { includeIncomplete: true })).toHaveLength(complete.length); // the failed one was dropped
    const names = readdirSync(files.folder(runId));
    expect(names.filter((name) => name.endsWith('.tmp'))).toEqual([]);
    expect(names).toHaveLength(complete.length);
    const latest = files.latestLoadable(after.reader, runId);
    expect(latest?.skipped).toEqual([]);
    expect(latest?.record.step).toBe(complete.at(-1)!.step);
    after.close();
  });

  it('names the error as a store error, never a raw SQLite code', () => {
    const file = path.join(dir, `capped-${++n}.db`);
    const store = openStore(file);
    store.db.pragma(`max_page_count = ${store.db.pragma('page_count', { simple: true }) as number}`);
    let error: unknown;
    try {
      for (let i = 0; i < 1000; i++) createRun(store, `run ${i} ${'x'.repeat(200)}`);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toMatch(/^the disk is full: could not save the run "run \d+ x+" in /);
    store.close();
  });
});
