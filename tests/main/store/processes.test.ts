// The store across processes, as in the product: a trainer process writes while this process
// reads (WAL snapshots must never show a half-committed batch), and a writer killed with SIGKILL
// at a random moment loses no committed row and leaves a database that passes integrity_check.
// The writer is a real forked Node process using the real Store (fixtures/writer-process.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointFiles } from '../../../src/main/store/checkpoints';
import { checkIntegrity } from '../../../src/main/store/database';
import { isTempCheckpointName } from '../../../src/main/store/checkpoint-files';
import type { Store } from '../../../src/main/store/index';
import { tempDir } from '../../helpers/temp';
import { createRun, exited, forkWriter, metricValue, openStore } from './helpers';

const dir = tempDir('dynamics-store-proc-');
let n = 0;
const DOMAINS = 10;

function freshRun(): { file: string; store: Store; runId: number } {
  const file = path.join(dir, `proc-${++n}.db`);
  const store = openStore(file);
  return { file, store, runId: createRun(store) };
}

/** Checks one consistent view of a run: whole steps only, every series as long as the timeline. */
function checkConsistent(store: Store, runId: number): number {
  return store.reader.snapshot(() => {
    const run = store.reader.get(runId);
    const { series } = store.reader.curves(runId);
    const length = (run.lastStep ?? -1) + 1;
    if (length === 0) {
      expect(series.every((s) => s.steps.length === 0)).toBe(true);
      return 0;
    }
    expect(series).toHaveLength(DOMAINS);
    for (const [d, s] of series.entries()) {
      expect(s.steps.length).toBe(length);
      expect(s.steps[length - 1]).toBe(length - 1);
      expect(s.tokens[length - 1]).toBe((length - 1) * 1024);
      expect(s.values[length - 1]).toBe(metricValue(length - 1, d));
      expect(s.values[0]).toBe(metricValue(0, d));
    }
    return length;
  });
}

const random = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1));

describe('store across processes', () => {
  it('a reader sees whole committed batches while another process writes', async () => {
    const { file, store, runId } = freshRun();
    const perCommit = 7;
    const maxSteps = 2_100;
    const child = forkWriter(['metrics', file, String(runId), String(perCommit), String(DOMAINS), String(maxSteps)]);
    const end = exited(child);
    let finished = false;
    void end.then(() => (finished = true));
    const seen = new Set<number>();
    let reads = 0;
    while (!finished) {
      const length = checkConsistent(store, runId);
      expect(length % perCommit === 0 || length === maxSteps).toBe(true);
      seen.add(length);
      reads++;
      await sleep(1);
    }
    expect(await end).toEqual({ code: 0, signal: null });
    expect(checkConsistent(store, runId)).toBe(maxSteps);
    // The reads really overlapped the writes: several partial states were observed.
    expect([...seen].filter((l) => l > 0 && l < maxSteps).length).toBeGreaterThan(3);
    expect(reads).toBeGreaterThan(5);
    store.close();
  });

  it('kill -9 of a writer mid-stream loses no committed row and leaves integrity_check ok (5 trials)', async () => {
    for (let trial = 0; trial < 5; trial++) {
      const { file, store, runId } = freshRun();
      store.close();
      const perCommit = random(1, 40);
      const child = forkWriter(['metrics', file, String(runId), String(perCommit), String(DOMAINS), String(1e9)]);
      let reported = -1;
      let commits = 0;
      const wanted = random(2, 40);
      const enough = new Promise<void>((resolve) => {
        child.on('message', (m: { committed: number }) => {
          reported = Math.max(reported, m.committed);
          if (++commits >= wanted) resolve();
        });
      });
      await enough;
      await sleep(random(0, 25));
      child.kill('SIGKILL');
      expect((await exited(child)).signal).toBe('SIGKILL');

      const after = openStore(file); // runs integrity_check at open
      checkIntegrity(after.db, file, 'full');
      const length = checkConsistent(after, runId);
      expect(length).toBeGreaterThanOrEqual(reported + 1);
      expect(length % perCommit).toBe(0);
      const steps = after.db.prepare('SELECT count(*) FROM steps WHERE run_id = ?').pluck().get(runId);
      expect(steps).toBe(length);
      after.close();
    }
  });

  it('kill -9 during checkpoint saves never leaves a selectable broken checkpoint (5 trials)', async () => {
    for (let trial = 0; trial < 5; trial++) {
      const { file, store, runId } = freshRun();
      store.runs.start(runId, { device: 'cpu', reason: 'test' });
      const runsDir = path.join(dir, `runs-${n}`);
      const child = forkWriter(['checkpoints', file, runsDir, String(runId), String(random(1, 4) << 20), '1000']);
      let reported = 0;
      const wanted = random(1, 6);
      await new Promise<void>((resolve) => {
        child.on('message', (m: { checkpoint: number }) => {
          reported = Math.max(reported, m.checkpoint);
          if (reported >= wanted) resolve();
        });
      });
      await sleep(random(0, 40));
      child.kill('SIGKILL');
      await exited(child);
      store.runs.setStatus(runId, 'interrupted', 'killed by SIGKILL');

      const files = new CheckpointFiles(runsDir);
      const complete = store.reader.checkpoints(runId);
      expect(complete.length).toBeGreaterThanOrEqual(reported);
      for (const record of complete) expect(files.load(record).header.step).toBe(record.step); // every offered one verifies
      const latest = files.latestLoadable(store.reader, runId);
      expect(latest?.skipped).toEqual([]);
      expect(latest!.record.step).toBeGreaterThanOrEqual(reported);
      expect(latest!.content.payload.every((b) => b === latest!.record.step % 251)).toBe(true);

      const point = store.runs.resumeFrom(runId, latest!.record.step);
      files.remove(point.removedCheckpointPaths);
      files.sweep(store.reader, runId);
      const left = readdirSync(files.folder(runId));
      expect(left.some(isTempCheckpointName)).toBe(false);
      expect(left).toHaveLength(store.reader.checkpoints(runId).length);
      // Metrics up to the checkpoint were committed before it became complete.
      expect(store.reader.curves(runId, { kind: 'train_loss' }).series[0]!.steps.at(-1)).toBe(latest!.record.step);
      checkIntegrity(store.db, file, 'full');
      store.close();
    }
  });
});
