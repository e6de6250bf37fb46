// Turns zod's validation issues into sentences that name the field, e.g.
// `training.steps must be an integer of at least 1 (got 0)`. Shared by the run configuration and
// any other user-written document validated with zod.
import type { z } from 'zod';

/** `domains[2].reference.loss`; the root is called `where`. */
export function fieldPath(path: readonly PropertyKey[], where = 'the document'): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? where : out;
}

function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return 'a list';
  return 'an object';
}

function typeWord(expected: string): string {
  switch (expected) {
    case 'number':
      return 'a number';
    case 'int':
      return 'an integer';
    case 'string':
      return 'a text string';
    case 'boolean':
      return 'true or false';
    case 'array':
      return 'a list';
    case 'object':
      return 'an object';
    default:
      return expected;
  }
}

function bound(issue: { minimum?: unknown; maximum?: unknown; inclusive?: boolean; origin?: string }): string {
  const small = 'minimum' in issue && issue.minimum !== undefined;
  const limit = String(small ? issue.minimum : issue.maximum);
  const inclusive = issue.inclusive !== false;
  switch (issue.origin) {
    case 'string':
      if (small && limit === '1') return 'non-empty';
      return small ? `at least ${limit} characters long` : `at most ${limit} characters long`;
    case 'array':
    case 'set':
      return `a list of ${small ? 'at least' : 'at most'} ${limit} ${limit === '1' ? 'item' : 'items'}`;
    default:
      if (small) return inclusive ? `at least ${limit}` : `greater than ${limit}`;
      return inclusive ? `at most ${limit}` : `less than ${limit}`;
  }
}

/** One issue as a sentence fragment starting with the field's path. */
export function describeIssue(issue: z.core.$ZodIssue, where = 'the document'): string {
  const at = fieldPath(issue.path, where);
  const input = (issue as { input?: unknown }).input;
  const got = input !== undefined ? ` (got ${shown(input)})` : '';
  switch (issue.code) {
    case 'invalid_type':
      if (input === undefined) return `${at} is required (${typeWord(issue.expected)})`;
      return `${at} must be ${typeWord(issue.expected)}, not ${shown(input)}`;
    case 'too_small':
    case 'too_big':
      return `${at} must be ${bound(issue)}${issue.origin === 'array' || issue.origin === 'string' ? '' : got}`;
    case 'invalid_value':
      return `${at} must be ${issue.values.length === 1 ? JSON.stringify(issue.values[0]) : `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`}${got}`;
    case 'unrecognized_keys':
      return `${at} has ${issue.keys.length === 1 ? 'an unknown field' : 'unknown fields'} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    case 'invalid_union': {
      const options = (issue as { options?: unknown[] }).options;
      if (options && options.length > 0) return `${at} must be one of ${options.map((v) => JSON.stringify(v)).join(', ')}${got}`;
      return `${at} does not match any allowed form`;
    }
    case 'invalid_format':
      return `${at} ${issue.message}`;
    case 'not_multiple_of':
      return `${at} must be a multiple of ${String(issue.divisor)}${got}`;
    case 'custom':
      return `${at} ${issue.message}`;
    default:
      return `${at}: ${issue.message}`;
  }
}

/** Several issues as one message: the first few, separated by semicolons. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], where = 'the document', max = 5): string {
  const parts = issues.slice(0, max).map((i) => describeIssue(i, where));
  const more = issues.length > max ? `; and ${issues.length - max} more problem${issues.length - max === 1 ? '' : 's'}` : '';
  return parts.join('; ') + more;
}
