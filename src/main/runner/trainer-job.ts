// What a trainer process does with its job: open the store, read the run's config and launch
// details, load the model and data, train the run (from the start, or from the checkpoint the
// supervisor resumed it at) writing every row itself through a StoreSink, and end with a status:
// completed, paused at a safe point, cancelled, or — on an error — failed or interrupted with the
// error's sentence. Progress goes to the parent as messages. Kept apart from the process entry so
// it can also run in the calling process (tests, tools).
import { rmSync } from 'node:fs';
import path from 'node:path';
import { isUserError, messageOf, UserError } from '../../shared/errors';
import { parseRunConfig } from '../../shared/run-config';
import { OrtRuntime } from '../engine/runtime/ort-runtime';
import { strategyLabel } from '../mixture/baselines';
import { createMixtureSolver } from '../mixture/solver';
import { CheckpointFiles } from '../store/checkpoints';
import { DiskFullError, DiskWriteError } from '../store/errors';
import { Store } from '../store/index';
import { RunCancelledError, RunPausedError } from './context';
import { PreparedRun } from './engine-setup';
import { runExperiment } from './experiment';
import { PID_FILE, REPORT_FILE, writePidFile } from './run-files';
import { fanOut, JsonReportSink } from './sink';
import type { LoopState } from './state';
import { StoreSink } from './store-sink';
import { recordTwin, sameMixtureMember } from './suite-twins';
import { TRAINER_EXIT, type ChildMessage, type TrainerJob } from './trainer-protocol';

export interface TrainerJobContext {
  send: (message: ChildMessage) => void;
  /** Raised by the parent's `pause` (or SIGTERM, or the parent going away). */
  pauseSignal: AbortSignal;
  /** Raised by the parent's `cancel`. */
  cancelSignal: AbortSignal;
}

function errorStatus(err: unknown): 'interrupted' | 'failed' {
  // A full or failing disk is the environment's, not the run's: once space is freed it resumes.
  return err instanceof DiskFullError || err instanceof DiskWriteError ? 'interrupted' : 'failed';
}

/** Runs the job to its end and returns the process exit code (TRAINER_EXIT). */
export async function runTrainerJob(job: TrainerJob, ctx: TrainerJobContext): Promise<number> {
  let store: Store | null = null;
  let prepared: PreparedRun | null = null;
  let sink: StoreSink | null = null;
  const runFolder = path.join(job.runsDir, String(job.runId));
  const pidFile = path.join(runFolder, PID_FILE);
  try {
    store = Store.open(job.dbFile, { appVersion: job.appVersion, check: 'none', ...(job.sqliteNativeBinding ? { nativeBinding: job.sqliteNativeBinding } : {}) });
    const run = store.reader.get(job.runId);
    if (run.status !== 'running') throw new UserError(`run ${job.runId} is ${run.status}; a trainer process trains only a run its supervisor marked running`);
    const config = parseRunConfig(run.config, `stored config of run ${job.runId}`);
    if (!run.launch) throw new UserError(`run ${job.runId} was stored without its launch details (the config's folder), so it cannot be trained here`);
    writePidFile(runFolder, process.pid);

    prepared = await PreparedRun.open(config, {
      runtime: new OrtRuntime(),
      graphCacheDir: job.engine.graphCacheDir,
      tokenCacheDir: job.engine.tokenCacheDir,
      ...(job.engine.datasetsDir ? { datasetsDir: job.engine.datasetsDir } : {}),
      resourcesDir: job.engine.resourcesDir,
      baseDir: run.launch.baseDir,
      ...(job.engine.threads !== undefined ? { threads: job.engine.threads } : {}),
      onStatus: (message) => ctx.send({ type: 'preparing', message }),
    });
    const sizes = prepared.sources.map((s) => s.tokens);

    if (!job.resume) {
      const twin = sameMixtureMember(store, run, config, sizes);
      if (twin) {
        const reason = recordTwin(store, job.runId, twin);
        ctx.send({ type: 'done', outcome: 'completed', step: null, reason });
        return TRAINER_EXIT.done;
      }
    }
    if (ctx.cancelSignal.aborted || ctx.pauseSignal.aborted) {
      // Stopped while loading: nothing was trained in this process, so there is nothing to save.
      const to = ctx.cancelSignal.aborted ? 'cancelled' : 'paused';
      const reason = `${to} before training ${job.resume ? 'resumed' : 'began'}`;
      store.runs.setStatus(job.runId, to, reason);
      ctx.send({ type: 'done', outcome: to, step: job.resume?.step ?? null, reason });
      return TRAINER_EXIT.done;
    }

    const files = new CheckpointFiles(job.runsDir);
    const step = job.resume?.step ?? null;
    sink = new StoreSink({
      store, files, runId: job.runId, config, resumed: step !== null, ...(job.flushIntervalMs !== undefined ? { flushIntervalMs: job.flushIntervalMs } : {}),
    });
    const solver = await createMixtureSolver();
    const trainer = await prepared.createTrainer(config, sink.storage);
    const label = strategyLabel(config.strategy);
    const report = new JsonReportSink(path.join(runFolder, REPORT_FILE));
    const sinks = fanOut(sink, report);
    try {
      sinks.begin({ config, suite: false, device: trainer.device, runDir: runFolder, startedAt: new Date(run.createdAt).toISOString(), data: prepared.data });
      ctx.send({ type: 'ready', device: trainer.device, sourceSizes: sizes });
      const resume = step === null ? undefined : (store.reader.checkpointState(job.runId, step) as LoopState);
      try {
        const result = await runExperiment(config, trainer, solver, {
          onEvent: (e) => {
            sinks.event(label, e);
            ctx.send({ type: 'event', event: e });
          },
          onState: (s) => sinks.state(label, s),
          signal: ctx.cancelSignal,
          pauseSignal: ctx.pauseSignal,
          ...(resume ? { resume } : {}),
          ...(job.progressChunkSteps ? { progressChunkSteps: job.progressChunkSteps } : {}),
        });
        await sinks.end({ kind: 'single', report: result });
        ctx.send({ type: 'done', outcome: 'completed', step: config.training.steps, reason: null });
      } catch (err) {
        if (err instanceof RunPausedError) {
          sink.flush();
          const reason = `paused at step ${err.step}`;
          store.runs.setStatus(job.runId, 'paused', reason);
          ctx.send({ type: 'done', outcome: 'paused', step: err.step, reason });
        } else if (err instanceof RunCancelledError) {
          sink.flush();
          const reason = err.message.replace(/^the run was /, '');
          store.runs.setStatus(job.runId, 'cancelled', reason);
          ctx.send({ type: 'done', outcome: 'cancelled', step: null, reason });
        } else {
          throw err;
        }
      }
    } finally {
      await trainer.close();
    }
    return TRAINER_EXIT.done;
  } catch (err) {
    const status = errorStatus(err);
    const message = isUserError(err) ? err.message : `internal error in the trainer: ${messageOf(err)}`;
    if (!isUserError(err) && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    try {
      sink?.flush();
    } catch {
      // The same full disk, most likely; rows after the last checkpoint are deleted by a resume anyway.
    }
    try {
      const current = store?.reader.get(job.runId).status;
      if (current === 'running') store!.runs.setStatus(job.runId, status, message);
    } catch {
      // The parent records the status from the error message when the store cannot take it here.
    }
    ctx.send({ type: 'error', name: err instanceof Error ? err.name : 'Error', message, status });
    return TRAINER_EXIT.error;
  } finally {
    prepared?.close();
    store?.close();
    rmSync(pidFile, { force: true });
  }
}
