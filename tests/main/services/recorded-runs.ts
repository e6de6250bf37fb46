// Real runs recorded in a store by the trainer's own StoreSink, from the experiment loop driven by
// SyntheticTrainer (a test double of the Trainer interface), so every row is what a trainer writes.
import { createMixtureSolver } from '../../../src/main/mixture/solver';
import { runExperiment } from '../../../src/main/runner/experiment';
import { StoreSink } from '../../../src/main/runner/store-sink';
import { CheckpointFiles } from '../../../src/main/store/checkpoints';
import type { Store } from '../../../src/main/store/index';
import type { RunConfig, RunConfigInput } from '../../../src/shared/run-config';
import { switchingConfig, switchingTrainer } from '../runner/scenarios';

/**
 * Records one real run: the loop over SyntheticTrainer, written by StoreSink as a trainer process
 * writes it (no checkpoints: the synthetic trainer keeps its own). Returns the run id.
 */
export async function recordSyntheticRun(store: Store, runsDir: string, overrides: Partial<RunConfigInput> = {}, tags: string[] = []): Promise<number> {
  const config: RunConfig = switchingConfig({ training: { steps: 64, batchSize: 8, learningRate: 0.05 }, evaluation: { interval: 16, regularBatches: 6, probeBatches: 3, testBatches: 6 }, ...overrides });
  const runId = store.runs.create({
    name: config.name, config, strategy: config.strategy.kind, seed: config.seed, tags,
    sources: config.sources.map((s) => s.id), domains: config.domains.map((d) => ({ id: d.id, role: d.role })), totalSteps: config.training.steps,
  });
  store.runs.start(runId, { device: 'cpu', reason: 'synthetic trainer' });
  const sink = new StoreSink({ store, files: new CheckpointFiles(runsDir), runId, config, resumed: false, flushIntervalMs: 0 });
  const report = await runExperiment(config, switchingTrainer(config), await createMixtureSolver(), {
    progressChunkSteps: 4,
    onEvent: (e) => sink.event('run', e),
  });
  await sink.end({ kind: 'single', report });
  return runId;
}
