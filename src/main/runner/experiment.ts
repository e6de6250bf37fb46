// The experiment loop as a headless library function (METHOD §2–5): reference evaluation at step 0,
// mixture updates on the schedule, training with the mixture, a regular evaluation and checkpoint
// every E steps, backtracking when enabled, selection of the best feasible checkpoint, the test
// report and the cost report. Written against the Trainer interface; reports through events.
import type { RunConfig } from '../../shared/run-config';
import { strategyLabel } from '../mixture/baselines';
import { costReport, plannedCounters } from '../mixture/cost';
import { nextUpdateAfter, planUpdates, regularEvalSteps, updateSteps } from '../mixture/schedule';
import { feasibility, selectCheckpoint, testReport, type SelectionContext } from '../mixture/selection';
import { probePrefix } from '../mixture/slopes';
import type { MixtureSolver } from '../mixture/solver';
import { LoopContext, RunPausedError, type LoopOptions } from './context';
import { checkEval, decide, recordOutcome } from './decide';
import type { EvalRecord, ReferenceRecord, RunReport } from './events';
import { checkLoopState, cloneLoopState, initialLoopState, type LoopState } from './state';
import type { CheckpointRef } from './trainer';
import type { DomainLosses, Trainer } from './trainer';

export { RunCancelledError, RunPausedError, type LoopOptions } from './context';

export interface ExperimentOptions extends LoopOptions {
  /** Continue a run from the state handed out by `onState` (the trainer loads its checkpoint). */
  resume?: LoopState;
}

/** References per METHOD §1: the base loss, or the domain's absolute/relative override. */
export function referencesFor(config: RunConfig, baseLosses: readonly number[]): (number | null)[] {
  return config.domains.map((d, i) => {
    if (d.role !== 'constraint') return null;
    const base = baseLosses[i] as number;
    if (!d.reference) return base;
    return d.reference.kind === 'absolute' ? d.reference.loss : base * (1 + d.reference.tolerance);
  });
}

function selectionContext(config: RunConfig, refs: ReferenceRecord): SelectionContext {
  return { domainIds: config.domains.map((d) => d.id), roles: config.domains.map((d) => d.role), references: refs.references, baseLosses: refs.baseLosses };
}

/** Regular-set loss minus its probe prefix's loss, per domain. */
function probeOffsets(ctx: LoopContext, regular: readonly DomainLosses[]): number[] {
  return regular.map((d) => d.loss - probePrefix(d, ctx.probeBatches).loss);
}

async function referenceStep(ctx: LoopContext): Promise<void> {
  const { trainer, config, state } = ctx;
  ctx.progress('evaluating', 0);
  const base = checkEval(ctx, await ctx.timed('regularEval', () => trainer.evaluate('regular')), 'the reference evaluation at step 0');
  ctx.count({ regularEvalBatches: LoopContext.batchesIn(base) });
  const baseTest = checkEval(ctx, await ctx.timed('testEval', () => trainer.evaluate('test')), 'the base model test evaluation');
  ctx.count({ testEvalBatches: LoopContext.batchesIn(baseTest) });
  const baseLosses = base.map((d) => d.loss);
  state.references = { baseLosses, references: referencesFor(config, baseLosses), baseTestLosses: baseTest.map((d) => d.loss) };
  state.lastRegularEval = { step: 0, losses: base };
  state.probeOffsets = probeOffsets(ctx, base);
  ctx.emit({ type: 'references', references: state.references });
  const f = feasibility({ step: 0, losses: baseLosses }, selectionContext(config, state.references));
  const record: EvalRecord = { step: 0, losses: baseLosses, worstExcess: f.worstExcess, feasible: false, checkpoint: null, abandoned: false };
  if (config.beyondPaper.backtracking.enabled && ctx.adaptive) {
    record.checkpoint = await ctx.timed('checkpointing', () => trainer.saveCheckpoint(0));
    state.checkpoint = record.checkpoint;
    if (f.worstExcess <= 0) state.lastFeasibleCheckpoint = record.checkpoint;
  }
  state.history.evals.push(record);
  ctx.emit({ type: 'eval', record });
  if (record.checkpoint) {
    ctx.emit({ type: 'checkpoint', step: 0, ref: record.checkpoint });
    // A backtrack may return here, so this checkpoint must be as complete as any other: with its state.
    ctx.emitState();
  }
}

/** Appends a segment, merging it into the previous one when it continues it with the same mixture. */
function pushSegment(state: LoopState, segment: LoopState['segments'][number]): void {
  const last = state.segments.at(-1);
  // Merging keeps the time average bit-identical whether an interval was trained in one piece or
  // paused and resumed in the middle (w·a + w·b is not always w·(a + b) in floating point).
  if (last && last.end === segment.start && last.weights.length === segment.weights.length && last.weights.every((w, j) => w === segment.weights[j])) {
    last.end = segment.end;
  } else {
    state.segments.push(segment);
  }
}

/** Saves a checkpoint where the loop stands, hands its state out and stops (a pause). */
async function pauseHere(ctx: LoopContext): Promise<never> {
  const step = ctx.state.step;
  const ref: CheckpointRef = await ctx.timed('checkpointing', () => ctx.trainer.saveCheckpoint(step));
  ctx.state.checkpoint = ref;
  ctx.emit({ type: 'checkpoint', step, ref });
  ctx.emitState();
  throw new RunPausedError(step);
}

async function trainUntil(ctx: LoopContext, end: number, chunk: number): Promise<void> {
  const { state, trainer } = ctx;
  const weights = [...state.weights];
  const start = state.step;
  while (state.step < end) {
    ctx.checkCancelled();
    const steps = Math.min(chunk, end - state.step);
    const t0 = ctx.now();
    const stats = await ctx.timed('training', () => trainer.train({ steps, mixture: weights, stream: 'main' }));
    ctx.noteThroughput(stats.tokens, (ctx.now() - t0) / 1000);
    ctx.count({ trainingSteps: steps });
    state.step += steps;
    const record = { step: state.step, steps, meanLoss: stats.meanLoss, skippedSteps: stats.skippedSteps, tokens: stats.tokens };
    state.history.train.push(record);
    ctx.emit({ type: 'train', record });
    ctx.progress('training');
    if (ctx.pauseRequested && state.step < end) {
      // The interval so far is a segment of its own; the resumed loop's remainder merges into it.
      pushSegment(state, { start, end: state.step, weights });
      await pauseHere(ctx);
    }
  }
  pushSegment(state, { start, end, weights });
}

/** Regular evaluation + checkpoint; returns the record. */
async function regularStep(ctx: LoopContext): Promise<EvalRecord> {
  const { trainer, config, state } = ctx;
  const step = state.step;
  ctx.progress('evaluating');
  const losses = checkEval(ctx, await ctx.timed('regularEval', () => trainer.evaluate('regular')), `the regular evaluation at step ${step}`);
  ctx.count({ regularEvalBatches: LoopContext.batchesIn(losses) });
  const f = feasibility({ step, losses: losses.map((d) => d.loss) }, selectionContext(config, state.references as ReferenceRecord));
  const checkpoint = await ctx.timed('checkpointing', () => trainer.saveCheckpoint(step));
  const record: EvalRecord = { step, losses: losses.map((d) => d.loss), worstExcess: f.worstExcess, feasible: f.feasible, checkpoint, abandoned: false };
  state.history.evals.push(record);
  recordOutcome(ctx, step, losses.map((d) => probePrefix(d, ctx.probeBatches).loss));
  state.lastRegularEval = { step, losses };
  state.probeOffsets = probeOffsets(ctx, losses);
  state.checkpoint = checkpoint;
  if (f.worstExcess <= 0) state.lastFeasibleCheckpoint = checkpoint;
  ctx.emit({ type: 'eval', record });
  ctx.emit({ type: 'checkpoint', step, ref: checkpoint });
  return record;
}

/**
 * Backtracking [ours]: on a violated constraint, go back to the last checkpoint whose constraints
 * held, add each violated constraint's overshoot to its margin (so the re-decision does not repeat
 * the same choice), and decide again there.
 */
async function maybeBacktrack(ctx: LoopContext, record: EvalRecord): Promise<boolean> {
  const { config, state, trainer } = ctx;
  const bt = config.beyondPaper.backtracking;
  const target = state.lastFeasibleCheckpoint;
  if (!bt.enabled || !ctx.adaptive || record.worstExcess <= 0 || state.backtracks >= bt.maxBacktracks || !target || target.step >= record.step) return false;
  const refs = (state.references as ReferenceRecord).references;
  const violated = ctx.roles.flatMap((r, i) => (r === 'constraint' && (record.losses[i] as number) > (refs[i] as number) ? [i] : []));
  for (const i of violated) state.extraMargins[i] = (state.extraMargins[i] as number) + (record.losses[i] as number) - (refs[i] as number);
  await ctx.timed('checkpointing', () => trainer.loadCheckpoint(target));
  for (const e of state.history.evals) if (e.step > target.step) e.abandoned = true;
  for (const d of state.history.decisions) if (d.step >= target.step) d.abandoned = true;
  state.segments = state.segments.filter((s) => s.start < target.step).map((s) => ({ ...s, end: Math.min(s.end, target.step) }));
  // The mixture in force is the live trajectory's, not the abandoned branch's (EMA, trust region
  // and local probes start from it).
  state.weights = [...(state.segments.at(-1)?.weights ?? new Array<number>(ctx.n).fill(1 / ctx.n))];
  const btRecord = { fromStep: record.step, toStep: target.step, violated, extraMargins: [...state.extraMargins] };
  state.history.backtracks.push(btRecord);
  state.backtracks++;
  state.step = target.step;
  state.checkpoint = target;
  state.lastRegularEval = null;
  state.pendingOutcome = null;
  state.forceDecision = true;
  ctx.emit({ type: 'backtrack', record: btRecord });
  return true;
}

function timeAveraged(state: LoopState, n: number): number[] {
  const sums = new Array<number>(n).fill(0);
  let total = 0;
  for (const s of state.segments) {
    const len = s.end - s.start;
    total += len;
    s.weights.forEach((w, j) => (sums[j] = (sums[j] as number) + w * len));
  }
  return total > 0 ? sums.map((x) => x / total) : [...state.weights];
}

async function finish(ctx: LoopContext): Promise<RunReport> {
  const { config, state, trainer, m } = ctx;
  const refs = state.references as ReferenceRecord;
  const sctx = selectionContext(config, refs);
  const live = state.history.evals.filter((e) => !e.abandoned);
  const selection = selectCheckpoint(live, sctx);
  let selectedTest: number[] | null = null;
  if (selection.step !== null) {
    const chosen = live.find((e) => e.step === selection.step);
    if (chosen?.checkpoint) {
      ctx.progress('evaluating');
      await ctx.timed('checkpointing', () => trainer.loadCheckpoint(chosen.checkpoint!));
      const test = checkEval(ctx, await ctx.timed('testEval', () => trainer.evaluate('test')), 'the test evaluation');
      ctx.count({ testEvalBatches: LoopContext.batchesIn(test) });
      selectedTest = test.map((d) => d.loss);
    }
  }
  const test = testReport(sctx, selection, live, refs.baseTestLosses, selectedTest);
  const report: RunReport = {
    name: config.name,
    seed: config.seed,
    strategy: config.strategy.kind,
    label: strategyLabel(config.strategy),
    feasible: test.feasible,
    test,
    cost: costReport(config, m, state.counters, state.wallSeconds),
    references: refs,
    timeAveragedWeights: timeAveraged(state, ctx.n),
    history: state.history,
  };
  ctx.emit({ type: 'finished', report });
  return report;
}

/**
 * Runs one experiment to the end and returns its report. The trainer must be freshly loaded with
 * the base model (or, with `resume`, able to load the state's checkpoint).
 */
export async function runExperiment(config: RunConfig, trainer: Trainer, solver: MixtureSolver, options: ExperimentOptions = {}): Promise<RunReport> {
  const m = config.domains.length;
  const n = config.sources.length;
  const T = config.training.steps;
  const adaptive = config.strategy.kind === 'dynamics' || config.strategy.kind === 'gradient-alignment';
  const updates = adaptive ? updateSteps(config.dynamics.schedule, T) : [0];
  const evalSteps = new Set(regularEvalSteps(config.evaluation.interval, T));
  const planned = costReport(config, m, plannedCounters(config, m, n), {});
  const state = options.resume ? cloneLoopState(options.resume) : initialLoopState(n, m);
  const ctx = new LoopContext(config, trainer, solver, state, updates, planned.total + planned.forwardEquivalents.testEval, options);
  const chunk = Math.max(1, options.progressChunkSteps ?? 16);

  ctx.emit({
    type: 'started',
    plan: {
      totalSteps: T,
      sourceIds: config.sources.map((s) => s.id),
      domainIds: config.domains.map((d) => d.id),
      roles: ctx.roles,
      strategy: config.strategy.kind,
      updates: adaptive ? planUpdates(updates, T, config.dynamics.probeCap) : [{ step: 0, horizon: T, probeSteps: 0 }],
      evalSteps: [...evalSteps],
      plannedCostMultiple: planned.multiple,
    },
  });

  // Whether the state handed out last describes the loop exactly as it stands (a pause needs no
  // new checkpoint then), and whether a complete checkpoint of an older state exists at this step
  // (after a backtrack: a pause waits for the next safe point rather than save the step twice).
  let stateSaved: boolean;
  let atBacktrackTarget = false;
  if (options.resume) {
    checkLoopState(state, n, m);
    await trainer.loadCheckpoint(state.checkpoint!);
    stateSaved = true;
  } else {
    await referenceStep(ctx);
    stateSaved = state.checkpoint !== null;
  }

  while (state.step < T) {
    const step = state.step;
    if (ctx.pauseRequested && !atBacktrackTarget) {
      if (stateSaved) throw new RunPausedError(step);
      await pauseHere(ctx);
    }
    stateSaved = false;
    atBacktrackTarget = false;
    if (state.forceDecision || updates.includes(step)) {
      const decision = await decide(ctx, step);
      state.weights = decision.weights;
      state.forceDecision = false;
      state.history.decisions.push(decision);
      ctx.emit({ type: 'decision', decision });
    }
    let next = nextUpdateAfter(updates, step, T);
    for (const e of evalSteps) if (e > step && e < next) next = e;
    await trainUntil(ctx, next, chunk);
    if (evalSteps.has(state.step)) {
      const record = await regularStep(ctx);
      if (await maybeBacktrack(ctx, record)) {
        atBacktrackTarget = true;
        continue;
      }
      ctx.emitState();
      stateSaved = true;
    }
  }
  return finish(ctx);
}
