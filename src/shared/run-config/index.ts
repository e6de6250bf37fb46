// The run configuration: schema, types, and `parseRunConfig`, which fills defaults and throws one
// InvalidInputError whose message names every bad field. Pure: the UI validates with it too; file
// reading (JSON or YAML) lives in src/main/runner/config-file.ts.
import type { z } from 'zod';
import { InvalidInputError } from '../errors';
import { crossFieldProblems } from './checks';
import { describeIssues } from './issues';
import { runConfigObjectSchema, type RunConfig, type RunConfigInput } from './schema';

export * from './schema';
export { describeIssue, describeIssues, fieldPath } from './issues';

/**
 * The full schema, cross-field checks included. They run only once every field is valid on its
 * own (zod would otherwise run them on half-checked values and report the same mistake twice).
 */
export const runConfigSchema = runConfigObjectSchema.superRefine((config, ctx) => {
  if (ctx.issues.length > 0) return;
  for (const p of crossFieldProblems(config)) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
});

/** Validates and fills defaults; `where` names the document in messages (e.g. the file name). */
export function parseRunConfig(input: unknown, where = 'run config'): RunConfig {
  const result = checkRunConfig(input);
  if (result.ok) return result.config;
  throw new InvalidInputError(`invalid ${where}: ${describeIssues(result.issues, 'the config')}`);
}

/** Like parseRunConfig, but returns the problems as sentences instead of throwing (for forms). */
export function checkRunConfig(input: unknown): { ok: true; config: RunConfig } | { ok: false; problems: string[]; issues: z.core.$ZodIssue[] } {
  const result = runConfigSchema.safeParse(input, { reportInput: true });
  if (result.success) return { ok: true, config: result.data };
  return {
    ok: false,
    issues: result.error.issues,
    problems: result.error.issues.map((i) => describeIssues([i], 'the config')),
  };
}

/** A minimal valid configuration's shape, for forms that start from scratch. */
export function defaultRunConfig(input: Pick<RunConfigInput, 'model' | 'sources' | 'domains'>): RunConfig {
  return parseRunConfig(input);
}
