// The run supervisor with real trainer processes (forked, the TypeScript entry under tsx) on a
// tiny model: a run trains in its own process writing its rows while this process reads them
// consistently; pause → paused → resume → completed with the same result; cancel; a killed
// process → interrupted with the reason, then resumed to the same result; a trainer's refusal →
// failed with its sentence; a run left marked running by a vanished process.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeExit } from '../../../src/main/runner/process-launcher';
import { PID_FILE } from '../../../src/main/runner/run-files';
import { RunStateError } from '../../../src/main/store/errors';
import { checkIntegrity } from '../../../src/main/store/database';
import type { SupervisorEvent } from '../../../src/main/runner/supervisor-events';
import { nextEvent, processWorld, statusLog, storedResult } from './process-fixtures';

const world = processWorld('dynamics-supervisor-');
const { store, files } = world.open();
const supervisor = world.supervisor(store, files, { cancelGraceMs: 20_000 });
const EVAL_STEPS = [4, 8, 12];
let reference: ReturnType<typeof storedResult>;

afterAll(() => store.close());

/** One consistent view: whole eval rows, checkpoints only over committed metrics, progress ahead of every row. */
function checkConsistent(runId: number): number {
  return store.reader.snapshot(() => {
    const run = store.reader.get(runId);
    const { series } = store.reader.curves(runId);
    const evals = series.filter((s) => s.kind === 'eval_loss');
    for (const s of evals) expect(s.steps).toEqual(evals[0]!.steps);
    const train = series.find((s) => s.kind === 'train_loss');
    const maxStep = Math.max(-1, ...series.flatMap((s) => s.steps.filter((x) => x <= 12)));
    if (maxStep >= 0) expect(run.lastStep).toBeGreaterThanOrEqual(maxStep);
    for (const c of store.reader.checkpoints(runId)) {
      expect(evals[0]?.steps).toContain(c.step);
      expect(train?.steps.at(-1)).toBeGreaterThanOrEqual(c.step);
    }
    if (train) train.steps.forEach((s, i) => expect(s).toBe(2 * (i + 1)));
    return series.reduce((n, s) => n + s.steps.length, 0);
  });
}

beforeAll(async () => {
  // The uninterrupted run everything else is compared with, read while it trains.
  const events: SupervisorEvent[] = [];
  supervisor.subscribe((e) => events.push(e));
  const [id] = supervisor.start(world.config, { baseDir: world.dir });
  const counts = new Set<number>();
  let reads = 0;
  while (supervisor.active().length > 0) {
    counts.add(checkConsistent(id!));
    reads++;
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(await supervisor.wait(id!)).toBe('completed');
  expect(reads).toBeGreaterThan(5);
  expect(counts.size).toBeGreaterThan(2); // the reads overlapped the writes
  reference = storedResult(store, files, id!, EVAL_STEPS);
  expect(events.filter((e) => e.type === 'status').map((e) => (e as { status: string }).status)).toEqual(['created', 'running', 'completed']);
  expect(events.some((e) => e.type === 'device' && e.device === 'cpu')).toBe(true);
  expect(events.filter((e) => e.type === 'progress').length).toBeGreaterThan(3);
  expect(events.at(-1)).toMatchObject({ type: 'status', status: 'completed' });
}, 180_000);

describe('RunSupervisor with trainer processes', () => {
  it('records a whole run: metrics, decisions, checkpoints with their state, score, report', () => {
    expect(reference.status).toBe('completed');
    expect(reference.curves.find((c) => c.kind === 'train_loss')?.steps).toEqual([2, 4, 6, 8, 10, 12]);
    expect(reference.curves.filter((c) => c.kind === 'eval_loss').map((c) => c.steps)).toEqual([[0, 4, 8, 12], [0, 4, 8, 12], [0, 4, 8, 12]]);
    expect(reference.decisions.map((d) => d.step)).toEqual([0, 4, 8]);
    expect(reference.decisions[0]!.slopes).toHaveLength(3);
    expect(reference.checkpoints.map((c) => c.step)).toEqual(EVAL_STEPS);
    expect(reference.score.costMultiple).toBeGreaterThan(1);
    expect(reference.report).not.toBeNull();
    expect(reference.log).toEqual(expect.arrayContaining(['0 info plan: 12 steps, 3 mixture updates', '0 info base losses measured']));
    expect(reference.tokensSeen).toBeGreaterThan(0);
  });

  it('pauses at the next safe point (process gone, status paused) and resumes to the same result', async () => {
    const [id] = supervisor.start(world.config, { baseDir: world.dir });
    const statuses = statusLog(supervisor, id!);
    await nextEvent(supervisor, (e) => e.runId === id && e.type === 'train');
    expect(await supervisor.pause(id!)).toBe('paused');
    expect(supervisor.active()).toEqual([]);
    const paused = store.reader.get(id!);
    expect(paused.statusReason).toMatch(/^paused at step \d+$/);
    expect(store.reader.checkpoints(id!).at(-1)?.step).toBe(Number(/\d+/.exec(paused.statusReason!)![0]));
    await supervisor.resume(id!);
    expect(await supervisor.wait(id!)).toBe('completed');
    // (created and running were announced before the log was listening)
    expect(statuses).toEqual(['paused', 'running', 'completed']);
    expect(storedResult(store, files, id!, EVAL_STEPS)).toEqual(reference);
  }, 180_000);

  it('cancels a running run (its process stops at the next chunk), and one with no process at once', async () => {
    const [id] = supervisor.start(world.config, { baseDir: world.dir });
    await nextEvent(supervisor, (e) => e.runId === id && e.type === 'train');
    expect(await supervisor.cancel(id!)).toBe('cancelled');
    expect(store.reader.get(id!)).toMatchObject({ status: 'cancelled', statusReason: expect.stringMatching(/^cancelled at step \d+$/) });
    await expect(supervisor.resume(id!)).rejects.toThrow(/run \d+ is cancelled; only a run that is paused, interrupted or failed can be resumed/);
    await expect(supervisor.pause(id!)).rejects.toThrow(RunStateError);
    const idle = store.runs.create({ name: 'never started', config: world.config, strategy: 'dynamics', seed: 5 });
    expect(await supervisor.cancel(idle)).toBe('cancelled');
    expect(store.reader.get(idle)).toMatchObject({ status: 'cancelled', statusReason: 'cancelled by the user' });
  }, 180_000);

  it('records a killed trainer as interrupted with the reason, and resumes it to the same result', async () => {
    const [id] = supervisor.start(world.config, { baseDir: world.dir });
    await nextEvent(supervisor, (e) => e.runId === id && e.type === 'eval' && e.record.step === 4);
    process.kill(supervisor.status(id!).active!.pid!, 'SIGKILL');
    expect(await supervisor.wait(id!)).toBe('interrupted');
    expect(store.reader.get(id!).statusReason).toBe('the trainer process was killed by SIGKILL (by a user, or by the system when memory ran out)');
    checkIntegrity(store.db, store.file, 'full');
    await supervisor.resume(id!);
    expect(await supervisor.wait(id!)).toBe('completed');
    expect(storedResult(store, files, id!, EVAL_STEPS)).toEqual(reference);
  }, 180_000);

  it("fails a run the trainer refuses, with the trainer's sentence", async () => {
    const config = { ...world.config, sources: [world.config.sources[0]!, { ...world.config.sources[1]!, dataset: 'corpora/nowhere' }] };
    const [id] = supervisor.start(config, { baseDir: world.dir });
    expect(await supervisor.wait(id!)).toBe('failed');
    expect(store.reader.get(id!).statusReason).toMatch(/^sources\[1\]\.dataset: dataset "corpora\/nowhere" is neither an imported dataset, a bundled corpus/);
  }, 180_000);

  it('takes a run marked running whose process is gone as interrupted, and runs it from the start', async () => {
    const [id] = supervisor.start(world.config, { baseDir: world.dir });
    await nextEvent(supervisor, (e) => e.runId === id && e.type === 'preparing');
    // Another supervisor's view: the process vanished without a word (its pid file names a dead pid).
    const other = world.supervisor(store, files);
    await supervisor.kill(id!);
    store.db.prepare("UPDATE runs SET status = 'running' WHERE id = ?").run(id!);
    writeFileSync(path.join(files.runFolder(id!), PID_FILE), JSON.stringify({ pid: 2 ** 22 + 12345, startedAt: 0 }));
    expect(other.liveOwner(id!)).toBeNull();
    await other.resume(id!);
    expect(store.reader.events(id!).map((e) => e.message)).toContain('running → interrupted: the process training it stopped without recording why (the app or the machine stopped)');
    expect(await other.wait(id!)).toBe('completed');
    expect(storedResult(store, files, id!, EVAL_STEPS)).toEqual(reference);
  }, 180_000);

  it('says why a process ended, in words', () => {
    expect(describeExit({ code: null, signal: 'SIGSEGV' }, 'warning\nSegmentation fault in libfoo\n')).toBe('the trainer process crashed (SIGSEGV: a fault in native code); its last words: Segmentation fault in libfoo');
    expect(describeExit({ code: 134, signal: null }, 'FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory')).toBe('the trainer process ran out of memory and exited with code 134');
    expect(describeExit({ code: 1, signal: null }, '')).toBe('the trainer process exited with code 1');
    expect(describeExit({ code: 0, signal: null })).toBe('the trainer process exited without finishing the run');
    expect(describeExit({ code: null, signal: null, error: 'spawn ENOENT' })).toBe('the trainer process could not be started (spawn ENOENT)');
  });
});
