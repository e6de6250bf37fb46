// Shared setup for the tests that run real trainer processes, and for the soak script (so no
// vitest here): a folder with a tiny random-init model, small corpora and a short config (12
// steps, a checkpoint every 4, progress every 2), a store with its runs folder, a RunSupervisor
// forking src/main/runner/trainer-process.ts under tsx, and what a finished run left in the store
// in a form two runs can be compared by (exact values; checkpoint handles and wall times, which
// differ by design, left out).
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadRunConfigFile } from '../../../src/main/runner/config-file';
import type { RunReport } from '../../../src/main/runner/events';
import { ForkProcessLauncher, type ProcessLauncher } from '../../../src/main/runner/process-launcher';
import { RunSupervisor } from '../../../src/main/runner/supervisor';
import type { SupervisorEvent } from '../../../src/main/runner/supervisor-events';
import type { TrainerEngineDirs } from '../../../src/main/runner/trainer-protocol';
import { resourcesDir } from '../../../src/main/paths';
import { CheckpointFiles } from '../../../src/main/store/checkpoints';
import { Store } from '../../../src/main/store/index';
import type { RunStatus } from '../../../src/main/store/types';
import type { RunConfig } from '../../../src/shared/run-config';
import { writeTinyCorpora, writeTinyModel } from './tiny-fixtures';

export const APP_VERSION = '0.0.0-test';

/** 12 steps, 2 sources, 3 domains, an update and a regular checkpoint every 4 steps. */
export const SHORT_CONFIG = `# A short DynaMiCS run for process tests; paths are relative to this file.
name: short
seed: 5
device: cpu
model:
  path: tiny-model
  adapter: { kind: lora, rank: 4, alpha: 8, targets: [q_proj, k_proj, v_proj, o_proj] }
sources:
  - { id: code, dataset: corpora/code }
  - { id: email, dataset: corpora/email }
domains:
  - { id: code, dataset: corpora/code, role: target }
  - { id: email, dataset: corpora/email, role: constraint, reference: { kind: relative, tolerance: 0.002 } }
  - { id: licenses, dataset: corpora/licenses, role: monitor }
training:
  steps: 12
  batchSize: 2
  seqLength: 32
  learningRate: 0.004
evaluation:
  interval: 4
  regularBatches: 2
  probeBatches: 1
  testBatches: 1
dynamics:
  schedule: { kind: list, steps: [0, 4, 8] }
  probeCap: 2
`;

export interface ProcessWorld {
  dir: string;
  configFile: string;
  config: RunConfig;
  engine: TrainerEngineDirs;
  /** A store and runs folder of their own (`name` keeps several apart in one world). */
  open(name?: string): { store: Store; files: CheckpointFiles };
  supervisor(store: Store, files: CheckpointFiles, options?: { launcher?: ProcessLauncher; cancelGraceMs?: number; flushIntervalMs?: number }): RunSupervisor;
}

/** A world in `dir` (scripts outside vitest make and remove their own folder). */
export function processWorldIn(dir: string, config: string = SHORT_CONFIG): ProcessWorld {
  writeTinyModel(path.join(dir, 'tiny-model'));
  writeTinyCorpora(path.join(dir, 'corpora'), ['code', 'email', 'licenses'], { train: 12, eval: 3, test: 3, maxChars: 1200 });
  const configFile = path.join(dir, 'short.yaml');
  writeFileSync(configFile, config);
  const engine: TrainerEngineDirs = {
    graphCacheDir: path.join(dir, 'cache', 'graphs'),
    tokenCacheDir: path.join(dir, 'cache', 'tokens'),
    resourcesDir: resourcesDir(),
    threads: 1,
  };
  return {
    dir,
    configFile,
    config: loadRunConfigFile(configFile),
    engine,
    open(name = 'runs') {
      const store = Store.open(path.join(dir, `${name}.db`), { appVersion: APP_VERSION });
      return { store, files: new CheckpointFiles(path.join(dir, `${name}-runs`)) };
    },
    supervisor(store, files, options = {}) {
      return new RunSupervisor({
        store, files, engine, appVersion: APP_VERSION, launcher: options.launcher ?? new ForkProcessLauncher(), progressChunkSteps: 2,
        defaultBaseDir: dir, ...(options.cancelGraceMs !== undefined ? { cancelGraceMs: options.cancelGraceMs } : {}),
        ...(options.flushIntervalMs !== undefined ? { flushIntervalMs: options.flushIntervalMs } : {}),
      });
    },
  };
}

/** Resolves at the first event matching `test` (of any run unless `runId` is given). */
export function nextEvent(supervisor: RunSupervisor, test: (e: SupervisorEvent) => boolean): Promise<SupervisorEvent> {
  return new Promise((resolve) => {
    const off = supervisor.subscribe((e) => {
      if (test(e)) {
        off();
        resolve(e);
      }
    });
  });
}

/** Statuses a run went through, as the supervisor announced them. */
export function statusLog(supervisor: RunSupervisor, runId: number): RunStatus[] {
  const log: RunStatus[] = [];
  supervisor.on('status', (e) => log.push(e.status), runId);
  return log;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function withoutHandles(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (k, v: unknown) => {
      if (k === 'checkpoint' || k === 'lastFeasibleCheckpoint') return (v as { step: number } | null)?.step ?? null;
      if (k === 'wallSeconds') return null;
      return v;
    }),
  );
}

/**
 * Everything a run left in the store that must not depend on how often it was stopped: every
 * metric point (value and tokens), decisions, the score, the checkpoints at `steps` (their losses,
 * feasibility and payload — parameters and Adam moments — by hash), the report, and the
 * step-tagged log. Checkpoints a pause added are left out by `steps`.
 */
export function storedResult(store: Store, files: CheckpointFiles, runId: number, steps?: readonly number[]) {
  const { reader } = store;
  const run = reader.get(runId);
  const events = reader.events(runId, { limit: 100_000 });
  const report = events.find((e) => (e.data as { kind?: string } | null)?.kind === 'report')?.data as { report: RunReport } | undefined;
  const checkpoints = reader.checkpoints(runId).filter((c) => !steps || steps.includes(c.step));
  return {
    status: run.status,
    score: { feasible: run.feasible, targetGain: run.targetGain, maxViolation: run.maxViolation, costMultiple: run.costMultiple, selectedStep: run.selectedStep },
    lastStep: run.lastStep,
    tokensSeen: run.tokensSeen,
    curves: reader.curves(runId).series.map((s) => ({ kind: s.kind, domain: s.domain, steps: s.steps, values: s.values, tokens: s.tokens })),
    decisions: reader.decisions(runId),
    outcomes: reader.outcomes(runId),
    checkpoints: checkpoints.map((c) => ({ step: c.step, feasible: c.feasible, losses: c.losses, payload: sha256(files.load(c).payload) })),
    report: withoutHandles(report?.report ?? null),
    log: events.filter((e) => e.step !== null).map((e) => `${e.step} ${e.level} ${e.message}`),
  };
}

export const random = (lo: number, hi: number) => lo + Math.random() * (hi - lo);
