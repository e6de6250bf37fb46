// Turns a method name and an untrusted input into a validated handler call whose outcome is a
// Result. Used by the Electron IPC binding and by `dynamics serve`: both hold no logic of their own.
import type { z } from 'zod';
import { InvalidInputError, isUserError, messageOf } from '../../shared/errors';
import { lookupMethod, type ContractSpec, type Handlers, type Result } from '../../shared/rpc';

export type Dispatch = (name: string, input: unknown) => Promise<Result<unknown>>;

export function formatZodError(method: string, error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return `${method}: invalid input`;
  const where = issue.path.length > 0 ? ` (field ${issue.path.join('.')})` : '';
  return `${method}: ${issue.message}${where}`;
}

export interface DispatchOptions {
  /** Called with internal (non-user) errors so they can be logged with their stack. */
  onInternalError?: (method: string, err: unknown) => void;
}

export function createDispatch<C extends ContractSpec>(contract: C, handlers: Handlers<C>, options: DispatchOptions = {}): Dispatch {
  const table = handlers as unknown as Record<string, Record<string, (input: unknown) => unknown>>;
  return async (name, input) => {
    const found = lookupMethod(contract, name);
    if (!found) return { ok: false, error: { name: 'UnknownMethod', message: `there is no method named ${JSON.stringify(name)}` } };
    const parsed = found.spec.input.safeParse(input);
    if (!parsed.success) {
      const err = new InvalidInputError(formatZodError(name, parsed.error));
      return { ok: false, error: { name: err.name, message: err.message } };
    }
    try {
      const value = await table[found.service]![found.method]!(parsed.data);
      return { ok: true, value };
    } catch (err) {
      if (isUserError(err)) return { ok: false, error: { name: err.name, message: err.message } };
      options.onInternalError?.(name, err);
      return { ok: false, error: { name: 'InternalError', message: `${name} failed: ${messageOf(err)}` } };
    }
  };
}
