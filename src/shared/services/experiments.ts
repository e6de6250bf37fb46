// experiments.*: the experiment setup form's backend — a sensible starting configuration from the
// bundled model and corpora, validation with every problem on its field (schema, cross-field and
// what only the core can check: does the model load, does each dataset exist), the planned
// schedule and cost, and saving/loading a configuration as a JSON or YAML file.
import { z } from 'zod';
import type { PlannedUpdate } from '../mixture';
import { method } from '../rpc';
import type { RunConfig } from '../run-config';

export interface FieldProblem {
  /** e.g. ["domains", 2, "reference", "loss"]; [] for the whole document. */
  path: (string | number)[];
  /** The path as text, e.g. "domains[2].reference.loss"; "" for the whole document. */
  field: string;
  /** One sentence naming the field, e.g. "training.steps must be at least 1 (got 0)". */
  message: string;
  /** Errors stop a run from starting; warnings do not (e.g. a sequence length beyond the model's). */
  severity: 'error' | 'warning';
}

export interface ConfigValidation {
  ok: boolean;
  /** The configuration with defaults filled, when the schema accepts it (even with warnings or core-side errors). */
  config: RunConfig | null;
  problems: FieldProblem[];
}

export interface ParsedConfig extends ConfigValidation {
  /** The document as written (before defaults), so a form can load even a broken file; null on a syntax error. */
  raw: unknown;
}

export interface ConfigDefaults {
  config: RunConfig;
  /** What the defaults rest on, in words (e.g. "no bundled model: pick one in Models"). */
  notes: string[];
}

export interface ConfigPlan {
  totalSteps: number;
  updates: PlannedUpdate[];
  evalSteps: number[];
  /** Expected cost as a multiple of one fixed-mixture run. */
  plannedCostMultiple: number;
  /** The runs `runs.start` creates with `suite: true`: labels, in order. */
  suiteLabels: string[];
}

export type ConfigFormat = 'json' | 'yaml';

/** A configuration document is a page of settings: 1 MiB is far beyond any real one. */
export const MAX_CONFIG_TEXT = 1024 * 1024;

export const experimentsService = {
  defaults: method(z.undefined()).returns<ConfigDefaults>(),
  /** Never throws for a bad configuration: the problems come back, each on its field. */
  validate: method(z.strictObject({ config: z.unknown() })).returns<ConfigValidation>(),
  /** The schedule and cost a valid configuration implies (for the schedule preview). */
  plan: method(z.strictObject({ config: z.unknown() })).returns<ConfigPlan>(),
  /** Reads a saved configuration; a syntax error comes back as a problem with its line and column. */
  parse: method(z.strictObject({ text: z.string().max(MAX_CONFIG_TEXT), format: z.enum(['json', 'yaml']) })).returns<ParsedConfig>(),
  /** Writes a configuration (validated first) as a file's text, with a suggested file name. */
  serialize: method(z.strictObject({ config: z.unknown(), format: z.enum(['json', 'yaml']) })).returns<{ text: string; fileName: string }>(),
};
