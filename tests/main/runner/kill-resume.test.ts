// kill -9 of real trainer processes at random moments, resumed each time, until the run completes:
// the stored result (every metric point, decision, checkpoint payload — trainable parameters and
// Adam moments — score and report) equals the uninterrupted run's bit for bit, integrity_check is
// ok, and no metric row is missing or doubled. Then kills timed by the file system to land inside
// checkpoint saves: no broken checkpoint is ever offered. More trials: `npm run soak:resume`.
import { mkdirSync, readdirSync, watch } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkIntegrity } from '../../../src/main/store/database';
import { isTempCheckpointName } from '../../../src/main/store/checkpoint-files';
import { nextEvent, processWorld, random, storedResult } from './process-fixtures';

const KILLS = 20;
const world = processWorld('dynamics-kill-');
const { store, files } = world.open();
const supervisor = world.supervisor(store, files);
const EVAL_STEPS = [4, 8, 12];
let reference: ReturnType<typeof storedResult>;
/** Seconds from a process's start to its device, and from there to its end, in the uninterrupted run. */
let startup = 0;
let training = 0;

afterAll(() => store.close());

beforeAll(async () => {
  const t0 = performance.now();
  const [id] = supervisor.start(world.config, { baseDir: world.dir });
  await nextEvent(supervisor, (e) => e.runId === id && e.type === 'device');
  const t1 = performance.now();
  expect(await supervisor.wait(id!)).toBe('completed');
  startup = (t1 - t0) / 1000;
  training = (performance.now() - t1) / 1000;
  reference = storedResult(store, files, id!, EVAL_STEPS);
}, 180_000);

/** After a kill: every checkpoint the store offers verifies, and the newest is taken without skipping any. */
function checkNothingBrokenOffered(runId: number): void {
  for (const c of store.reader.checkpoints(runId)) expect(files.load(c).header.step).toBe(c.step);
  expect(files.latestLoadable(store.reader, runId)?.skipped ?? []).toEqual([]);
}

describe('kill -9 at random moments, then resume', () => {
  it(`ends every run exactly as the uninterrupted run (${KILLS} kills)`, async () => {
    let kills = 0;
    let fromCheckpoint = 0;
    let duringStartup = 0;
    const runs: number[] = [];
    while (kills < KILLS) {
      const [id] = supervisor.start(world.config, { baseDir: world.dir });
      runs.push(id!);
      // Up to 5 kills per run, then it may finish.
      for (let k = 0; k < 5 && kills < KILLS; k++) {
        // A fifth of the kills while the process starts; the others once it has reached a random
        // step (so late phases get their share after resumes), plus a random delay.
        const early = Math.random() < 0.2;
        const step = Math.floor(random(0, 13));
        if (!early) {
          const reached = (e: { runId: number; type: string; step?: number; record?: { step: number } }) =>
            e.runId === id && (e.type === 'progress' || e.type === 'train' || e.type === 'eval') && (e.step ?? e.record?.step ?? -1) >= step;
          await Promise.race([nextEvent(supervisor, (e) => reached(e as never)), supervisor.wait(id!)]);
        }
        await new Promise((r) => setTimeout(r, 1000 * (early ? random(0, startup) : random(0, training / 6))));
        const live = supervisor.status(id!).active;
        if (!live) break; // it finished first
        process.kill(live.pid!, 'SIGKILL');
        const status = await supervisor.wait(id!);
        if (status === 'completed') break; // the kill came after the run was recorded complete
        expect(status).toBe('interrupted');
        kills++;
        if (early) duringStartup++;
        checkNothingBrokenOffered(id!);
        await supervisor.resume(id!);
        if (/^resumed from the checkpoint at step \d+$/.test(store.reader.get(id!).statusReason ?? '')) fromCheckpoint++;
      }
      expect(await supervisor.wait(id!)).toBe('completed');
      expect(storedResult(store, files, id!, EVAL_STEPS)).toEqual(reference);
      // No stray files: only the complete checkpoints remain.
      expect(readdirSync(files.folder(id!)).sort()).toEqual(store.reader.checkpoints(id!).map((c) => c.path.split('/').at(-1)).sort());
    }
    checkIntegrity(store.db, store.file, 'full');
    console.log(`kill-resume: ${kills} kills over ${runs.length} runs; ${fromCheckpoint} resumes from a checkpoint, ${duringStartup} kills during start-up`);
    expect(kills).toBeGreaterThanOrEqual(KILLS);
    expect(fromCheckpoint).toBeGreaterThan(0);
  }, 900_000);

  it('kills landing inside checkpoint saves never leave a selectable broken checkpoint (one kill per save)', async () => {
    const [id] = supervisor.start(world.config, { baseDir: world.dir });
    const folder = files.folder(id!);
    mkdirSync(folder, { recursive: true });
    // The kill follows the creation of a save's temp file, once per step; each resume goes back to
    // the checkpoint before it, so every save of the run is cut once.
    const killedAt = new Set<number>();
    const watcher = watch(folder, (_event, name) => {
      const step = name && isTempCheckpointName(name) ? Number(/step-(\d+)/.exec(name)?.[1]) : NaN;
      if (!Number.isInteger(step) || killedAt.has(step)) return;
      const pid = supervisor.status(id!).active?.pid;
      if (!pid) return;
      killedAt.add(step);
      process.kill(pid, 'SIGKILL');
    });
    let caught = 0;
    try {
      while ((await supervisor.wait(id!)) === 'interrupted') {
        const names = readdirSync(folder);
        const pending = store.reader.checkpoints(id!, { includeIncomplete: true }).filter((c) => !c.complete);
        if (names.some(isTempCheckpointName) || pending.length > 0) caught++;
        checkNothingBrokenOffered(id!);
        await supervisor.resume(id!);
      }
    } finally {
      watcher.close();
    }
    expect(store.reader.get(id!).status).toBe('completed');
    expect([...killedAt].sort((a, b) => a - b)).toEqual(EVAL_STEPS);
    console.log(`kill during save: ${caught} of ${killedAt.size} kills left a save unfinished (a temp file or an incomplete row)`);
    expect(caught).toBeGreaterThan(0);
    expect(storedResult(store, files, id!, EVAL_STEPS)).toEqual(reference);
    checkIntegrity(store.db, store.file, 'full');
  }, 600_000);
});
