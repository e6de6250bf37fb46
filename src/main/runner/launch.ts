// Runs a configuration on the engine from start to end: prepares the model and data once, runs
// the experiment (or the baseline suite) with EngineTrainers writing checkpoints under the run's
// folder, and reports to a sink. The CLI calls it today; the trainer process will call it with
// the store's sink.
import path from 'node:path';
import type { RunConfig } from '../../shared/run-config';
import { strategyLabel } from '../mixture/baselines';
import type { MixtureSolver } from '../mixture/solver';
import { createMixtureSolver } from '../mixture/solver';
import { FolderCheckpointStorage, type CheckpointStorage } from './checkpoint-storage';
import { DeferredTrainer } from './deferred-trainer';
import { PreparedRun, type EngineEnvironment } from './engine-setup';
import type { EngineTrainer } from './engine-trainer';
import { runExperiment } from './experiment';
import type { RunOutcome, RunSink } from './sink';
import { runSuite } from './suite';

export interface LaunchOptions {
  config: RunConfig;
  env: EngineEnvironment;
  /** The run's folder: checkpoints go to checkpoints/ (one subfolder per run of a suite). */
  runDir: string;
  /** Run DynaMiCS and the fixed baselines side by side. */
  suite?: boolean;
  sink?: RunSink;
  /** Where each run's checkpoints go (default: files in `folder`); `label` names the run in a suite. */
  checkpointStorage?: (label: string, folder: string) => CheckpointStorage;
  signal?: AbortSignal;
  solver?: MixtureSolver;
  /** Training chunk between progress events (default 16 steps). */
  progressChunkSteps?: number;
  now?: () => Date;
}

/** A folder name for a suite member's label ("uniform m=0.5" → "uniform-m-0.5"). */
export function labelFolder(label: string): string {
  return label.replace(/[^A-Za-z0-9.]+/g, '-').replace(/^-+|-+$/g, '') || 'run';
}

export async function launchRun(options: LaunchOptions): Promise<RunOutcome> {
  const { config, env, runDir, sink = {}, signal } = options;
  const now = options.now ?? (() => new Date());
  const startedAt = now().toISOString();
  const prepared = await PreparedRun.open(config, env);
  try {
    const solver = options.solver ?? (await createMixtureSolver());
    let begun = false;
    const storage = options.checkpointStorage ?? ((_label: string, folder: string) => new FolderCheckpointStorage(folder));
    const create = async (runConfig: RunConfig, folder: string): Promise<EngineTrainer> => {
      const trainer = await prepared.createTrainer(runConfig, storage(strategyLabel(runConfig.strategy), folder));
      if (!begun) {
        begun = true;
        sink.begin?.({ config, suite: options.suite === true, device: trainer.device, runDir, startedAt, data: prepared.data });
      }
      return trainer;
    };
    const loop = { ...(signal ? { signal } : {}), ...(options.progressChunkSteps ? { progressChunkSteps: options.progressChunkSteps } : {}) };
    let outcome: RunOutcome;
    if (options.suite) {
      const used = new Set<string>();
      const suite = await runSuite(
        config,
        (runConfig) => {
          // The suite labels its runs by strategy; each gets its own checkpoint folder.
          let name = labelFolder(strategyLabel(runConfig.strategy));
          while (used.has(name)) name += '_';
          used.add(name);
          const folder = path.join(runDir, name, 'checkpoints');
          // The first (adaptive) run always runs; later ones may be duplicates the suite skips.
          if (!begun) return create(runConfig, folder);
          return Promise.resolve(new DeferredTrainer({ sourceSizes: prepared.sources.map((s) => s.tokens) }, () => create(runConfig, folder)));
        },
        solver,
        { ...loop, onEvent: (label, e) => sink.event?.(label, e) },
      );
      outcome = { kind: 'suite', suite };
    } else {
      const trainer = await create(config, path.join(runDir, 'checkpoints'));
      const label = strategyLabel(config.strategy);
      try {
        const report = await runExperiment(config, trainer, solver, {
          ...loop,
          onEvent: (e) => sink.event?.(label, e),
          onState: (st) => sink.state?.(label, st),
        });
        outcome = { kind: 'single', report };
      } finally {
        await trainer.close();
      }
    }
    await sink.end?.(outcome);
    return outcome;
  } finally {
    prepared.close();
  }
}
