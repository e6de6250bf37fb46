// Errors that describe a user's mistake or a refused request. Their message is a sentence meant
// for the user; everything else is an internal error and is reported without its stack.

export class UserError extends Error {
  override name = 'UserError';
}

/** Input that failed validation; `message` names the field. */
export class InvalidInputError extends UserError {
  override name = 'InvalidInput';
}

export class NotFoundError extends UserError {
  override name = 'NotFound';
}

export function isUserError(err: unknown): err is UserError {
  return err instanceof UserError;
}

/** `err.message` for anything thrown, without a stack. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
