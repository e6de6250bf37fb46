// mixture.*: the what-if panel. `problemOf` returns a recorded decision's problem (slopes, losses,
// references, roles, horizon, margin, and the controller's own terms: calibrated slopes, chance
// constraints, trust region, fallback slack) exactly as the run solved it, and the same problem with
// the slopes as measured; the panel edits roles, references or the margin and calls `solve`, which
// runs the same solver as training.
import { z } from 'zod';
import type { MixtureDecision, MixtureProblem, SolverKind } from '../mixture';
import { method } from '../rpc';
import type { Decision, DecisionCalibration, RunDomain } from '../runs';

const MAX_SIDE = 1024;

export const mixtureProblemSchema = z.strictObject({
  slopes: z.array(z.array(z.number()).min(1).max(MAX_SIDE)).min(1).max(MAX_SIDE),
  losses: z.array(z.number()).max(MAX_SIDE),
  references: z.array(z.number().nullable()).max(MAX_SIDE),
  roles: z.array(z.enum(['target', 'constraint', 'monitor'])).min(1).max(MAX_SIDE),
  horizon: z.number().positive(),
  margin: z.number().min(0).optional(),
  extraMargins: z.array(z.number()).max(MAX_SIDE).optional(),
  uncertainty: z
    .strictObject({
      k: z.number().min(0),
      changeStdErrors: z.array(z.number().min(0)).max(MAX_SIDE),
      slopeStdErrors: z.array(z.array(z.number().min(0)).max(MAX_SIDE)).max(MAX_SIDE),
    })
    .optional(),
  trustRegion: z.strictObject({ center: z.array(z.number()).max(MAX_SIDE), radius: z.number().positive() }).optional(),
  fallbackSlack: z.number().min(0).optional(),
});

/** What the run's controller added to the paper's problem at this decision [ours]; null where it did not. */
export interface WhatIfModel {
  /** The calibration the decision applied: each domain's slopes were scaled by `scale`. */
  calibration: DecisionCalibration | null;
  /** k of the chance constraints. */
  chanceK: number | null;
  /** The trust region's L1 radius around the mixture in force. */
  trustRadius: number | null;
  /** The fallback's tolerance, in standard errors of the least violation. */
  fallbackStandardErrors: number | null;
}

export interface WhatIfProblem {
  runId: number;
  step: number;
  /** Source ids (the weights' order). */
  sources: string[];
  /** Domains with their recorded roles (the rows' order). */
  domains: RunDomain[];
  /** The problem as the run solved it: with the calibrated slopes when the decision was calibrated. */
  problem: MixtureProblem;
  /** The same problem with the slopes as measured (no calibration); null when the decision used none. */
  uncalibrated: MixtureProblem | null;
  model: WhatIfModel;
  /** The base model's loss per domain (step 0): the default reference of a domain made a constraint. */
  baseLosses: number[];
  solver: SolverKind;
  /** The decision as the run recorded it. */
  recorded: Decision;
}

export const mixtureService = {
  solve: method(z.strictObject({ problem: mixtureProblemSchema, solver: z.enum(['lp', 'penalty-grid']).default('lp') })).returns<MixtureDecision>(),
  /** The problem of a recorded decision (a run with probing: fixed mixtures have no slopes and are refused). */
  problemOf: method(z.strictObject({ runId: z.number().int().positive(), step: z.number().int().min(0) })).returns<WhatIfProblem>(),
};
