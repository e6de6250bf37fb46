// A full disk in the middle of a run, made real: the trainer process runs under `ulimit -f` (the
// kernel refuses writes past the cap with EFBIG), so its database writes fail part-way. The run
// must stop with one clear sentence (interrupted, resumable), the database must pass
// integrity_check, and a resume once space is back must end exactly as the uninterrupted run.
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChildProcessTrainer, defaultTrainerEntry, type ProcessLauncher } from '../../../src/main/runner/process-launcher';
import { checkIntegrity } from '../../../src/main/store/database';
import { Store } from '../../../src/main/store/index';
import { APP_VERSION, processWorld, storedResult } from './process-fixtures';

/** Trainer processes under a file-size cap (`ulimit -f`, in 512-byte blocks), with their IPC channel. */
class FileSizeCappedLauncher implements ProcessLauncher {
  constructor(private readonly blocks: number) {}

  launch() {
    const entry = defaultTrainerEntry(new URL('../../../src/main/runner/process-launcher.ts', import.meta.url).href);
    const child = spawn('sh', ['-c', `ulimit -f ${this.blocks} && exec "$0" "$@"`, process.execPath, ...entry.execArgv, entry.file], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    return new ChildProcessTrainer(child);
  }
}

const world = processWorld('dynamics-disk-full-run-');
const EVAL_STEPS = [4, 8, 12];
let reference: ReturnType<typeof storedResult>;
/** The reference run's write-ahead log size once its checkpoints at steps 4 and 8 were recorded. */
const walAt = new Map<number, number>();
// Commits only at checkpoints and events: the log then grows the same way in every run.
const FLUSH = { flushIntervalMs: 1e9 };
const closers: (() => void)[] = [];
afterAll(() => closers.forEach((c) => c()));

beforeAll(async () => {
  // Also fills the graph and token caches, so the capped run writes only the run's own files.
  const { store, files } = world.open('reference');
  closers.push(() => store.close());
  const supervisor = world.supervisor(store, files, FLUSH);
  // The decision after a checkpoint comes once the checkpoint's row is complete.
  supervisor.on('decision', (e) => walAt.set(e.decision.step, statSync(`${store.file}-wal`).size));
  const [id] = supervisor.start(world.config, { baseDir: world.dir });
  expect(await supervisor.wait(id!)).toBe('completed');
  reference = storedResult(store, files, id!, EVAL_STEPS);
}, 180_000);

describe('a full disk during a run', () => {
  it('stops the run with a sentence, keeps the database intact, and the run resumes to the same end', async () => {
    const { store, files } = world.open('capped');
    closers.push(() => store.close());
    // A cap the log reaches between the checkpoints at steps 4 and 8 (the same writes as the reference).
    const cap = Math.round((walAt.get(4)! + walAt.get(8)!) / 2 / 512);
    const capped = world.supervisor(store, files, { launcher: new FileSizeCappedLauncher(cap), ...FLUSH });
    const [id] = capped.start(world.config, { baseDir: world.dir });
    expect(await capped.wait(id!)).toBe('interrupted');
    const run = store.reader.get(id!);
    expect(run.statusReason).toMatch(
      /^the disk (is full \(or the file-size limit was reached\)|refused a write): could not [^;]+ in .+capped\.db \(.+\); (free some space and retry|check that the disk has free space and is healthy) — nothing already saved was lost$/,
    );
    // It stopped part-way, after the checkpoint at step 4.
    expect(store.reader.checkpoints(id!).map((c) => c.step)).toEqual([4]);
    expect(run.lastStep ?? 0).toBeLessThan(12);
    console.log(`disk full (cap ${cap * 512} bytes) after step ${run.lastStep}: ${run.statusReason}`);
    store.close();

    // Intact: a full integrity check at open, then the resume (with space back) ends as if nothing happened.
    const reopened = Store.open(store.file, { appVersion: APP_VERSION, check: 'full' });
    closers.push(() => reopened.close());
    checkIntegrity(reopened.db, reopened.file, 'full');
    const supervisor = world.supervisor(reopened, files);
    await supervisor.resume(id!);
    expect(reopened.reader.get(id!).statusReason).toBe('resumed from the checkpoint at step 4');
    expect(await supervisor.wait(id!)).toBe('completed');
    expect(storedResult(reopened, files, id!, EVAL_STEPS)).toEqual(reference);
  }, 300_000);
});
