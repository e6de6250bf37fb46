// Reading a small user file whole (a run config, a mixture problem, token ids) with its size
// checked before a byte is read, so a wrong path to a huge file is refused, not loaded. One place
// for the refusals' words.
import { readFileSync, statSync } from 'node:fs';
import { UserError } from '../shared/errors';

/** The text of `file` when it is at most `maxBytes` long; `what` names the kind of file in the refusal. */
export function readCappedText(file: string, maxBytes: number, what: string): string {
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new UserError(`cannot read ${file}: it is not a regular file`);
    size = st.size;
  } catch (err) {
    if (err instanceof UserError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? `cannot read ${file}: no such file` : `cannot read ${file} (${code ?? 'unknown error'})`);
  }
  if (size > maxBytes) throw new UserError(`${file} is ${size} bytes; ${what} may be at most ${maxBytes} bytes`);
  return readFileSync(file, 'utf8');
}
