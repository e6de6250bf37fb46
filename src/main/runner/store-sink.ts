// The run store as a RunSink: the trainer process writes its run's rows as the loop reports them.
// - train chunks → train_loss (and progress: tokens seen, wall time) at the chunk's last step;
// - evaluations → eval_loss per domain and worst_excess; references → reference and base_test_loss
//   at step 0; the final report → the run's score, and an event carrying the test results and cost
//   (tagged one step past the end: a run resumed from its last checkpoint tests again and must not
//   find them there);
// - decisions → the decisions table; backtracks → every row after the step gone back to deleted
//   (RunStore.rewindTo) and a warning event;
// - checkpoints → a file per checkpoint (StoreCheckpointStorage) whose row is begun when the file is
//   written and completed when the loop hands out its state for that step, with the eval's losses
//   and feasibility. Completing it commits every metric up to the step first, so a checkpoint that
//   can be resumed from never misses a row, and rows after it are what a resume deletes.
// Metrics are buffered and committed at most every `flushIntervalMs` (and at each checkpoint), so
// live readers see whole batches without an fsync per chunk.
import type { RunConfig } from '../../shared/run-config';
import type { CheckpointFiles } from '../store/checkpoints';
import type { Store } from '../store/index';
import type { RunWriter } from '../store/run-writer';
import type { Decision, DecisionOutcome, MetricValue, WrittenCheckpoint } from '../store/index';
import type { CheckpointContent, CheckpointStorage } from './checkpoint-storage';
import type { DecisionRecord, EvalRecord, OutcomeRecord, RunEvent, RunReport } from './events';
import { describeDatasetUse } from './data-report';
import type { RunInfo, RunOutcome, RunSink } from './sink';
import type { LoopState } from './state';
import type { CheckpointRef } from './trainer';

/** Metric kinds the store sink writes (the UI and `dynamics runs export` read them by these names). */
export const METRIC_KINDS = {
  trainLoss: 'train_loss',
  skippedSteps: 'skipped_steps',
  evalLoss: 'eval_loss',
  worstExcess: 'worst_excess',
  reference: 'reference',
  baseTestLoss: 'base_test_loss',
} as const;

export interface StoreSinkOptions {
  /** The trainer process's own connection. */
  store: Store;
  files: CheckpointFiles;
  runId: number;
  config: RunConfig;
  /**
   * The loop continues from a checkpoint (its counters start from the run's progress there, and
   * what it announces only at a fresh start is not recorded again).
   */
  resumed: boolean;
  /** Milliseconds; injected by tests. */
  clock?: () => number;
  /** Buffered metrics are committed at least this often (default 1000 ms) and at every checkpoint. */
  flushIntervalMs?: number;
}

/** `RUN/checkpoints/step-00000016.ckpt#<sha256>:<bytes>`: the stored path with what was written. */
const REF_ID = /^(\d+\/checkpoints\/step-\d{8}\.ckpt)#([0-9a-f]{64}):(\d+)$/;

/** Checkpoints as files in the runs folder with rows in the store; see StoreSink for when a row completes. */
export class StoreCheckpointStorage implements CheckpointStorage {
  /** Written files whose rows wait for the loop's state. */
  readonly pending = new Map<number, WrittenCheckpoint>();

  constructor(
    private readonly files: CheckpointFiles,
    private readonly writer: RunWriter,
  ) {}

  async save(step: number, content: CheckpointContent): Promise<CheckpointRef> {
    const written = this.files.write(this.writer, { step, meta: content.meta, payload: content.payload });
    this.pending.set(step, written);
    return { step, id: `${written.path}#${written.sha256}:${written.bytes}` };
  }

  async load(ref: CheckpointRef): Promise<{ meta: unknown; payload: Uint8Array }> {
    const m = REF_ID.exec(ref.id);
    if (!m) throw new Error(`checkpoint reference ${JSON.stringify(ref.id)} was not written by the run store`);
    const runId = Number(m[1]!.split('/')[0]);
    if (runId !== this.writer.runId) throw new Error(`checkpoint reference ${JSON.stringify(ref.id)} belongs to run ${runId}, not ${this.writer.runId}`);
    const loaded = this.files.load({
      runId, step: ref.step, path: m[1]!, complete: true, sha256: m[2]!, bytes: Number(m[3]), feasible: null, losses: null, createdAt: 0,
    });
    return { meta: loaded.header.meta, payload: loaded.payload };
  }
}

function finiteOrNull(x: number | null | undefined): number | null {
  return x === null || x === undefined || !Number.isFinite(x) ? null : x;
}

/** A loop decision in the stored shape (what `RunReader.decisions` returns): binding constraints by id. */
export function toStoredDecision(d: DecisionRecord, sourceIds: readonly string[], domainIds: readonly string[]): Decision {
  return {
    step: d.step,
    horizon: d.horizon,
    weights: d.weights,
    slopes: d.slopes,
    losses: d.losses.length > 0 ? d.losses : null,
    predicted: d.predicted,
    status: d.status ?? 'fixed',
    solver: {
      strategy: d.strategy,
      solver: d.solver,
      probeSteps: d.probeSteps,
      anchorRecycled: d.anchorRecycled,
      objective: finiteOrNull(d.objective),
      maxViolation: finiteOrNull(d.maxViolation),
      decidedWeights: d.decidedWeights,
      slopeStdErrors: d.slopeStdErrors,
      ...(d.predictedChange ? { predictedChange: d.predictedChange } : {}),
      ...(d.calibration ? { calibration: d.calibration } : {}),
      extraMargins: d.extraMargins,
      sources: [...sourceIds],
    },
    binding: d.binding.map((i) => domainIds[i] ?? String(i)),
  };
}

/** A decision's outcome in the stored shape: one row per domain, by id. */
export function toStoredOutcome(o: OutcomeRecord, domainIds: readonly string[]): DecisionOutcome[] {
  return domainIds.map((domain, i) => ({
    step: o.step,
    domain,
    measuredAt: o.measuredAt,
    predicted: o.predicted[i] as number,
    calibrated: o.calibrated[i] as number,
    actual: o.actual[i] as number,
  }));
}

export class StoreSink implements RunSink {
  readonly storage: StoreCheckpointStorage;
  private readonly writer: RunWriter;
  private readonly clock: () => number;
  private readonly t0: number;
  private readonly domainIds: string[];
  private readonly sourceIds: string[];
  private tokens: number;
  private wallAtStart: number;
  private lastFlush: number;
  private lastEval: EvalRecord | null = null;

  constructor(private readonly options: StoreSinkOptions) {
    const { store, runId, config } = options;
    this.writer = store.writerFor(runId, { batchSize: 20_000 });
    this.storage = new StoreCheckpointStorage(options.files, this.writer);
    this.clock = options.clock ?? (() => performance.now());
    this.t0 = this.clock();
    this.lastFlush = this.t0;
    this.domainIds = config.domains.map((d) => d.id);
    this.sourceIds = config.sources.map((s) => s.id);
    // A resumed run continues its counters from the checkpoint step (resumeFrom set them there).
    const run = store.reader.get(runId);
    this.tokens = options.resumed ? run.tokensSeen : 0;
    this.wallAtStart = options.resumed ? run.durationMs : 0;
  }

  private get runId(): number {
    return this.options.runId;
  }

  private progress(): { tokens: number; wallMs: number } {
    return { tokens: this.tokens, wallMs: this.wallAtStart + (this.clock() - this.t0) };
  }

  /** Commits buffered metrics now. */
  flush(): void {
    this.writer.metrics.flush();
    this.lastFlush = this.clock();
  }

  private maybeFlush(): void {
    if (this.clock() - this.lastFlush >= (this.options.flushIntervalMs ?? 1000)) this.flush();
  }

  /** The supervisor marked the run running when it started this process; the device is known now. */
  begin(info: RunInfo): void {
    this.options.store.runs.setDevice(this.runId, info.device.device, info.device.reason);
    // What each dataset gives and loses, once: a resume reads the same rows.
    if (!this.options.resumed) for (const u of info.data ?? []) this.writer.event('info', describeDatasetUse(u), { step: 0, data: { kind: 'data', ...u } });
  }

  event(_label: string, e: RunEvent): void {
    switch (e.type) {
      case 'started':
        // The plan is the same at every start; it is recorded once, with step 0's rows.
        if (!this.options.resumed) this.writer.event('info', `plan: ${e.plan.totalSteps} steps, ${e.plan.updates.length} mixture updates`, { step: 0, data: { kind: 'plan', plan: e.plan } });
        break;
      case 'references': {
        this.writer.event('info', 'base losses measured', { step: 0, data: { kind: 'references', references: e.references } });
        const values: MetricValue[] = [];
        e.references.baseTestLosses.forEach((value, i) => values.push({ kind: METRIC_KINDS.baseTestLoss, domain: this.domainIds[i]!, value }));
        e.references.references.forEach((value, i) => {
          if (value !== null) values.push({ kind: METRIC_KINDS.reference, domain: this.domainIds[i]!, value });
        });
        this.writer.metrics.record(0, null, values);
        break;
      }
      case 'decision':
        this.writer.decision(toStoredDecision(e.decision, this.sourceIds, this.domainIds));
        break;
      case 'outcome':
        this.writer.outcome(toStoredOutcome(e.record, this.domainIds));
        break;
      case 'train': {
        const r = e.record;
        this.tokens += r.tokens;
        const values: MetricValue[] = [{ kind: METRIC_KINDS.trainLoss, value: r.meanLoss }];
        if (r.skippedSteps > 0) {
          values.push({ kind: METRIC_KINDS.skippedSteps, value: r.skippedSteps });
          this.writer.event('warn', `${r.skippedSteps} of the ${r.steps} steps ending at step ${r.step} were skipped: the loss or a gradient was not finite`, { step: r.step });
        }
        this.writer.metrics.record(r.step, this.progress(), values);
        break;
      }
      case 'eval': {
        const r = e.record;
        this.lastEval = r;
        const values: MetricValue[] = r.losses.map((value, i) => ({ kind: METRIC_KINDS.evalLoss, domain: this.domainIds[i]!, value }));
        if (Number.isFinite(r.worstExcess)) values.push({ kind: METRIC_KINDS.worstExcess, value: r.worstExcess });
        // Step 0 has no training chunk before it: its evaluation gives the step's progress row.
        this.writer.metrics.record(r.step, r.step === 0 ? this.progress() : null, values);
        break;
      }
      case 'backtrack':
        this.backtrack(e.record.toStep, e.record.fromStep, e.record.violated);
        break;
      case 'finished':
        this.finished(e.report);
        break;
      default:
        break;
    }
    this.maybeFlush();
  }

  /** Completes the checkpoint written for this state's step: losses and feasibility from its evaluation. */
  state(_label: string, s: LoopState): void {
    const written = this.storage.pending.get(s.step);
    if (!written) throw new Error(`the loop handed out its state at step ${s.step} without a checkpoint being saved there`);
    const evalHere = this.lastEval && this.lastEval.step === s.step && !this.lastEval.abandoned ? this.lastEval : null;
    this.writer.completeCheckpoint(s.step, {
      sha256: written.sha256,
      bytes: written.bytes,
      feasible: evalHere ? evalHere.feasible : null,
      losses: evalHere ? Object.fromEntries(evalHere.losses.map((l, i) => [this.domainIds[i]!, l])) : null,
      state: s,
    });
    this.storage.pending.delete(s.step);
    this.lastFlush = this.clock();
  }

  async end(outcome: RunOutcome): Promise<void> {
    if (outcome.kind !== 'single') throw new Error('the store sink records one run; a suite runs one trainer process per run');
    this.flush();
    const r = outcome.report;
    const how = r.feasible ? `feasible, target perplexity reduction ${(100 * r.test.targetPplReduction).toFixed(1)}%` : 'no feasible checkpoint';
    this.options.store.runs.setStatus(this.runId, 'completed', how);
  }

  /**
   * The loop went back to its checkpoint at `toStep`: what it recorded after that step belongs to
   * an abandoned branch. The warning is tagged with the first step of the new branch, so a resume
   * from the checkpoint gone back to (whose state predates the backtrack) drops it with the rest,
   * and one from a later checkpoint keeps it. A later backtrack to the same step drops it too (the
   * log keeps the latest; the report's history keeps every backtrack).
   */
  private backtrack(toStep: number, fromStep: number, violated: number[]): void {
    this.flush();
    const { removedCheckpointPaths, progress } = this.options.store.runs.rewindTo(this.runId, toStep);
    this.options.files.remove(removedCheckpointPaths);
    for (const step of [...this.storage.pending.keys()]) if (step > toStep) this.storage.pending.delete(step);
    this.tokens = progress?.tokens ?? 0;
    const names = violated.map((i) => this.domainIds[i] ?? String(i)).join(', ');
    this.writer.event('warn', `constraint${violated.length === 1 ? '' : 's'} ${names} violated at step ${fromStep}: back to the checkpoint at step ${toStep}`, {
      step: toStep + 1,
      data: { fromStep, toStep, violated: violated.map((i) => this.domainIds[i]) },
    });
  }

  private finished(report: RunReport): void {
    const t = report.test;
    this.flush();
    const how = report.feasible ? `selected the checkpoint at step ${t.selectedStep}` : 'no feasible checkpoint';
    this.writer.event('info', `finished: ${how}`, { step: this.options.config.training.steps + 1, data: { kind: 'report', report } });
    this.options.store.runs.setScore(this.runId, {
      feasible: report.feasible,
      targetGain: finiteOrNull(t.targetPplReduction),
      maxViolation: finiteOrNull(t.maxViolation),
      costMultiple: finiteOrNull(report.cost.multiple),
      selectedStep: t.selectedStep,
    });
  }
}
