// controller.*: the mixture controller for trainers we do not run (a PyTorch script on a cluster, the
// Hugging Face Trainer). Served by `dynamics serve` beside the rest of the API (same token, same
// /api/call/ path, same {ok, value | error} replies), but kept out of the app's own contract: the
// renderer never calls it. The protocol is a rendezvous: the trainer registers a run, then asks for
// its next task (evaluate, train, probe, save, load) and reports each task's result; the controller
// runs the same loop as a local run on top of those answers. docs/controller-protocol.md describes
// every shape; integrations/python/ is its client.
import { z } from 'zod';
import { method } from '../rpc';
import { domainSchema, RUN_CONFIG_LIMITS, runConfigObjectSchema, sourceSchema, type RunConfig } from '../run-config/schema';
import type { RunStatus } from '../runs';

/** Bumped when a request or reply changes shape; a client of another version is refused at registration. */
export const CONTROLLER_PROTOCOL = 1;

export const CONTROLLER_LIMITS = {
  /** Characters of a trainer's own name for a checkpoint (a path, a key). */
  refLength: 1024,
  /** Batches per domain in one evaluation report. */
  batches: RUN_CONFIG_LIMITS.evalBatches,
  /** A report's batch values, all domains together (a body holds at most 100,000 values). */
  batchValues: 40_000,
  /** How long `next` may hold a request open waiting for a task. */
  maxWaitSeconds: 30,
  /** The trainer must make a call at least this often (seconds), or its run is interrupted. */
  lease: { min: 2, max: 86_400, default: 300 },
} as const;

const text = z.string().min(1).max(RUN_CONFIG_LIMITS.stringLength);
const runId = z.number().int().positive();
const session = z.string().regex(/^[0-9a-f]{32}$/, 'must be the session id that register returned');
const seq = z.number().int().min(1);

/**
 * The experiment config of an external run: a run config whose model and datasets stay the
 * trainer's, so `model` is only a name and every `dataset` is optional (a label for the views).
 */
export const externalRunConfigSchema = runConfigObjectSchema.omit({ device: true }).extend({
  model: z.strictObject({ name: text }).optional(),
  sources: z.array(sourceSchema.extend({ dataset: text.optional() })).min(1).max(RUN_CONFIG_LIMITS.sources),
  domains: z.array(domainSchema.extend({ dataset: text.optional() })).min(1).max(RUN_CONFIG_LIMITS.domains),
});
export type ExternalRunConfigInput = z.input<typeof externalRunConfigSchema>;

/** One domain's evaluation: the mean loss of every fixed batch, in order, and their token counts. */
const domainEval = z.strictObject({
  batchLosses: z.array(z.number()).min(1).max(CONTROLLER_LIMITS.batches),
  /** Loss-carrying tokens per batch (weights of the mean); all equal when absent. */
  batchTokens: z.array(z.number().positive()).min(1).max(CONTROLLER_LIMITS.batches).optional(),
});
export type DomainEvalReport = z.output<typeof domainEval>;

/** What the trainer reports for a task, by the task's kind. */
export const taskResultSchema = z.discriminatedUnion('kind', [
  /** evaluate and probe: every domain, in the config's order. */
  z.strictObject({ kind: z.literal('evaluate'), domains: z.array(domainEval).min(1).max(RUN_CONFIG_LIMITS.domains) }),
  z.strictObject({ kind: z.literal('probe'), domains: z.array(domainEval).min(1).max(RUN_CONFIG_LIMITS.domains) }),
  z.strictObject({
    kind: z.literal('train'),
    /** Optimizer steps taken (the task's steps minus skipped ones). */
    steps: z.number().int().min(0).max(RUN_CONFIG_LIMITS.steps),
    /** Mean training loss over those steps; null when none was taken. */
    meanLoss: z.number().nullable(),
    tokens: z.number().min(0).max(1e15).default(0),
    skippedSteps: z.number().int().min(0).max(RUN_CONFIG_LIMITS.steps).default(0),
  }),
  /** The trainer's own name for the checkpoint it saved (a path, a key), handed back by `load`. */
  z.strictObject({ kind: z.literal('save'), ref: z.string().max(CONTROLLER_LIMITS.refLength).default('') }),
  z.strictObject({ kind: z.literal('load') }),
]);
export type TaskResult = z.input<typeof taskResultSchema>;
export type ParsedTaskResult = z.output<typeof taskResultSchema>;

/** The mixture decided at an update, with what it rests on, sent with the first train task after it. */
export interface TaskDecision {
  step: number;
  weights: number[];
  /** 'feasible' | 'infeasible' for the controller; 'fixed' for a fixed mixture. */
  status: string;
  /** One sentence: why this mixture. */
  reason: string;
}

interface TaskBase {
  /** Numbers tasks within a session; the report names the task it answers. */
  seq: number;
  /** The run's step when the task was set (main-stream steps trained so far). */
  step: number;
}

/**
 * What the trainer must do next. Every task but `wait` and `finished` expects one report.
 * - evaluate: the fixed evaluation batches of `split` for every domain (`batches` per domain; the
 *   probe set is the first `probeBatches` of the regular set).
 * - train: `steps` optimizer steps of the main run on `mixture` (one weight per source).
 * - probe: from the current state, train `steps` steps on `mixture` from the probe data streams,
 *   evaluate the probe set, then put back the model and optimizer state exactly as they were.
 * - save / load: a checkpoint of everything the run needs to continue exactly (model, optimizer,
 *   data positions) at `step`, by the trainer's own `ref`.
 */
export type ControllerTask =
  | (TaskBase & { kind: 'evaluate'; split: 'regular' | 'probe' | 'test'; batches: number })
  | (TaskBase & { kind: 'train'; steps: number; mixture: number[]; decision: TaskDecision | null })
  | (TaskBase & {
      kind: 'probe';
      steps: number;
      mixture: number[];
      /** Which probe of this update, and how many there are. */
      index: number;
      count: number;
      /** Directional probes: the mixture is (1 − epsilon)·center + epsilon·e_toward. null: one source alone. */
      direction: { toward: number; epsilon: number; center: number[] } | null;
      /** Every probe of one update draws its batches from this seed (common random numbers). */
      seed: number;
      batches: number;
    })
  | (TaskBase & { kind: 'save' })
  | (TaskBase & { kind: 'load'; ref: string; loadStep: number })
  /** Nothing yet: ask again (the controller is solving, or another request holds the task). */
  | (TaskBase & { kind: 'wait' })
  /** The run ended (completed, cancelled, failed…): stop. */
  | (TaskBase & { kind: 'finished'; status: RunStatus; reason: string | null });

export type ControllerTaskKind = ControllerTask['kind'];

export interface RegisterReply {
  protocol: typeof CONTROLLER_PROTOCOL;
  runId: number;
  /** Sent with every later call; a later registration of the same run replaces it. */
  session: string;
  /** null: start from the base model. A step: the run continues from the trainer's checkpoint there (a load task comes first). */
  resumedFrom: number | null;
  /** A fresh run, or one continued after its trainer went away. */
  resumed: boolean;
  /** The config as the controller runs it, defaults filled (eval batch counts, schedule, probe cap…). */
  config: RunConfig;
  /** When the controller will probe and decide, and evaluate (a backtrack adds a decision where it goes back to). */
  plan: ControllerPlan;
  leaseSeconds: number;
}

export interface ControllerPlan {
  /** Mixture updates: the step, the steps until the next one, each probe's steps (0: no probes, a fixed mixture). */
  updates: { step: number; horizon: number; probeSteps: number }[];
  /** Regular evaluations, each followed by a checkpoint. */
  evalSteps: number[];
}

export interface ReportReply {
  /** false: the run ended while the task ran (cancelled in the app…); the report is dropped and `next` says how it ended. */
  accepted: boolean;
}

const sessionRef = { runId, session };

export const controllerService = {
  /** A new run (no runId) or the same run again after its trainer went away (runId). */
  register: method(
    z.strictObject({
      protocol: z.number().int(),
      /** Validated by the handler, so its problems are named field by field. */
      config: z.unknown(),
      runId: runId.optional(),
      /** Who trains: shown where a local run shows its device. */
      trainer: z.strictObject({ name: z.string().min(1).max(200), detail: z.string().max(1000).optional() }).optional(),
      tags: z.array(z.string().min(1).max(64)).max(32).optional(),
      leaseSeconds: z.number().min(CONTROLLER_LIMITS.lease.min).max(CONTROLLER_LIMITS.lease.max).optional(),
    }),
  ).returns<RegisterReply>(),
  /** The next task; waits up to `waitSeconds` for one (then a `wait` task). */
  next: method(z.strictObject({ ...sessionRef, waitSeconds: z.number().min(0).max(CONTROLLER_LIMITS.maxWaitSeconds).default(20) })).returns<ControllerTask>(),
  /** The result of task `seq`. */
  report: method(z.strictObject({ ...sessionRef, seq, result: taskResultSchema })).returns<ReportReply>(),
  /** Keeps the lease while a long task runs. */
  heartbeat: method(z.strictObject(sessionRef)).returns<{ status: RunStatus }>(),
  /** The trainer stops for now (a pre-emption, a crash handler): the run is interrupted, resumable by registering again. */
  detach: method(z.strictObject({ ...sessionRef, reason: z.string().max(1000).optional() })).returns<{ status: RunStatus }>(),
};

export const controllerContract = { controller: controllerService };
export type ControllerContract = typeof controllerContract;
