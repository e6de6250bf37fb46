// The PROBLEM.json document of `dynamics solve` (DESIGN.md's CLI contract) as a zod schema, and its
// conversion to a MixtureProblem. Field names are the contract's; value checks that need the whole
// problem (shapes, references per role) are checkProblem's.
import { z } from 'zod';
import { InvalidInputError } from '../../shared/errors';
import { describeIssues } from '../../shared/run-config/issues';
import { PROBLEM_LIMITS, type MixtureDecision, type MixtureProblem, type SolverKind } from './problem';

export const problemDocumentSchema = z.strictObject({
  slopes: z.array(z.array(z.number()).max(PROBLEM_LIMITS.sources)).min(1).max(PROBLEM_LIMITS.domains),
  losses: z.array(z.number()).max(PROBLEM_LIMITS.domains),
  references: z.array(z.number().nullable()).max(PROBLEM_LIMITS.domains),
  roles: z.array(z.enum(['target', 'constraint', 'monitor'])).min(1).max(PROBLEM_LIMITS.domains),
  horizon: z.number().positive(),
  margin: z.number().min(0).optional(),
  solver: z.enum(['lp', 'penalty-grid']).optional(),
});

export type ProblemDocument = z.output<typeof problemDocumentSchema>;

/** RESULT.json: exactly the contract's fields. */
export interface ResultDocument {
  weights: number[];
  status: 'feasible' | 'infeasible';
  predicted: number[];
  maxViolation: number;
  objective: number;
  binding: number[];
}

export function parseProblemDocument(input: unknown, where = 'the problem'): { problem: MixtureProblem; solver: SolverKind } {
  const parsed = problemDocumentSchema.safeParse(input, { reportInput: true });
  if (!parsed.success) throw new InvalidInputError(`invalid ${where}: ${describeIssues(parsed.error.issues, 'the problem')}`);
  const { solver, margin, ...rest } = parsed.data;
  return { problem: { ...rest, ...(margin !== undefined ? { margin } : {}) }, solver: solver ?? 'lp' };
}

export function resultDocument(d: MixtureDecision): ResultDocument {
  return { weights: d.weights, status: d.status, predicted: d.predicted, maxViolation: d.maxViolation, objective: d.objective, binding: d.binding };
}
