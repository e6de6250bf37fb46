// Backtracking in a trainer process: the loop goes back to a checkpoint (the store deletes the
// abandoned branch's rows with rewindTo while the run keeps running) and trains that stretch again.
// Killed at random moments and paused right after a backtrack, then resumed each time, the run
// ends exactly as the uninterrupted one: the branch's rows never survive, nothing is doubled.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkIntegrity } from '../../../src/main/store/database';
import { nextEvent, processWorld, random, SHORT_CONFIG, storedResult } from './process-fixtures';

// A constraint at exactly its base loss and a high learning rate: the run overshoots at step 8
// and goes back to step 4, twice (the paper-exact controller, with backtracking on).
const CONFIG = `${SHORT_CONFIG.replace('tolerance: 0.002', 'tolerance: 0.0').replace('learningRate: 0.004', 'learningRate: 0.05')}beyondPaper:
  noiseAwareMargin: { enabled: false }
  calibration: { enabled: false }
  progressFallback: { enabled: false }
  smoothing: { kind: none }
  localSlopes: { enabled: false }
  backtracking: { enabled: true, maxBacktracks: 2 }
`;
const world = processWorld('dynamics-backtrack-', CONFIG);
const { store, files } = world.open();
const supervisor = world.supervisor(store, files);
const EVAL_STEPS = [4, 8, 12];
let reference: ReturnType<typeof storedResult>;

afterAll(() => store.close());

beforeAll(async () => {
  const [id] = supervisor.start(world.config, { baseDir: world.dir });
  expect(await supervisor.wait(id!)).toBe('completed');
  reference = storedResult(store, files, id!, EVAL_STEPS);
}, 180_000);

describe('backtracking with a run store', () => {
  it('keeps only the live branch: each step once, the backtracks in the log', () => {
    const report = reference.report as { history: { backtracks: { fromStep: number; toStep: number }[] } };
    expect(report.history.backtracks.map((b) => [b.fromStep, b.toStep])).toEqual([[8, 4], [8, 4]]);
    expect(reference.curves.find((c) => c.kind === 'train_loss')!.steps).toEqual([2, 4, 6, 8, 10, 12]);
    for (const c of reference.curves.filter((s) => s.kind === 'eval_loss')) expect(c.steps).toEqual([0, 4, 8, 12]);
    expect(reference.decisions.map((d) => d.step)).toEqual([0, 4, 8]);
    // The decision at 4 is the last re-decision, with both learned margins.
    expect((reference.decisions[1]!.solver.extraMargins as number[])[1]).toBeGreaterThan(0);
    // The log keeps the latest backtrack to step 4 (the second one went back past the first's
    // record); the report's history keeps both.
    expect(reference.log.filter((l) => /violated at step 8: back to the checkpoint at step 4/.test(l))).toEqual(['5 warn constraint email violated at step 8: back to the checkpoint at step 4']);
    expect(reference.checkpoints.map((c) => c.step)).toEqual([4, 8, 12]);
  });

  it('ends exactly as the uninterrupted run after kills at random moments and a pause right after a backtrack', async () => {
    const [id] = supervisor.start(world.config, { baseDir: world.dir });
    // A pause asked as the first backtrack happens: taken at the next safe point past step 4.
    await nextEvent(supervisor, (e) => e.runId === id && e.type === 'backtrack');
    expect(await supervisor.pause(id!)).toBe('paused');
    expect(Number(/\d+/.exec(store.reader.get(id!).statusReason ?? '')?.[0])).toBeGreaterThan(4);
    for (let k = 0; k < 4; k++) {
      await supervisor.resume(id!);
      const step = Math.floor(random(2, 13));
      await Promise.race([
        nextEvent(supervisor, (e) => e.runId === id && (e.type === 'train' || e.type === 'backtrack') && (e.type === 'train' ? e.record.step : e.record.toStep) >= step),
        supervisor.wait(id!),
      ]);
      await new Promise((r) => setTimeout(r, random(0, 300)));
      const live = supervisor.status(id!).active;
      if (!live) break;
      process.kill(live.pid!, 'SIGKILL');
      if ((await supervisor.wait(id!)) === 'completed') break;
    }
    if (store.reader.get(id!).status !== 'completed') {
      await supervisor.resume(id!);
      expect(await supervisor.wait(id!)).toBe('completed');
    }
    expect(storedResult(store, files, id!, EVAL_STEPS)).toEqual(reference);
    checkIntegrity(store.db, store.file, 'full');
  }, 600_000);
});
