// File helpers for model folders: capped JSON reading (lenient about NaN / Infinity, see json.ts),
// atomic text writes, and resolution of a relative path that may not leave its folder (no `..`,
// no absolute path, no symlink pointing outside).
import { closeSync, fsyncSync, openSync, readFileSync, realpathSync, renameSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { InvalidInputError, UserError } from '../../../shared/errors';
import { parseLenientJson } from './json';

export { parseLenientJson, stringifyLenientJson } from './json';

/** Reads a JSON object from `file`, at most `maxBytes` long; `what` says what the file is for. */
export function readJsonObject(file: string, maxBytes: number): Record<string, unknown> {
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new InvalidInputError(`${file} is not a regular file`);
    size = st.size;
  } catch (err) {
    if (err instanceof UserError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? `${file} does not exist` : `cannot read ${file} (${code ?? 'unknown error'})`);
  }
  if (size > maxBytes) throw new InvalidInputError(`${file} is ${size} bytes, more than the limit of ${maxBytes} bytes for this file`);
  const text = readFileSync(file, 'utf8');
  const value = parseLenientJson(text, file);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidInputError(`${file} must hold a JSON object`);
  return value as Record<string, unknown>;
}

/** Writes text to a temporary name, fsyncs and renames it over `file`. */
export function writeTextAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

/**
 * Where files of `dir` may really live: the folder itself and, when it is a snapshot of the Hugging
 * Face hub cache (`models--org--name/snapshots/REV`, whose files are symlinks to `../../blobs/SHA`),
 * that repository's own `blobs` folder.
 */
function allowedRoots(root: string): string[] {
  const roots = [root];
  const snapshots = path.dirname(root);
  if (path.basename(snapshots) === 'snapshots' && path.basename(path.dirname(snapshots)).startsWith('models--')) {
    roots.push(path.join(path.dirname(snapshots), 'blobs'));
  }
  return roots;
}

/**
 * The real path of `relative` inside `dir`, refusing anything that could leave it: an absolute
 * path, a `..` segment, a NUL, or a symlink (of the file or a folder on the way) that resolves
 * outside `dir` (the hub cache's blobs folder excepted). `what` names the reference in errors
 * (e.g. `model.safetensors.index.json: weight_map`).
 */
export function resolveInside(dir: string, relative: string, what: string): string {
  if (relative.length === 0 || relative.length > 4096) throw new InvalidInputError(`${what}: the path ${JSON.stringify(relative)} is empty or too long`);
  if (relative.includes('\0')) throw new InvalidInputError(`${what}: the path ${JSON.stringify(relative)} contains a NUL character`);
  if (path.isAbsolute(relative) || path.win32.isAbsolute(relative)) throw new InvalidInputError(`${what}: the path ${JSON.stringify(relative)} is absolute; it must stay inside the model folder`);
  if (relative.split(/[\\/]/).includes('..')) throw new InvalidInputError(`${what}: the path ${JSON.stringify(relative)} contains "..", so it could leave the model folder`);
  const root = realpathSync(dir);
  let real: string;
  try {
    real = realpathSync(path.join(root, relative));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? `${what}: ${relative} does not exist in ${dir}` : `${what}: cannot resolve ${relative} (${code ?? 'unknown error'})`);
  }
  const inside = allowedRoots(root).some((r) => {
    const rel = path.relative(r, real);
    return rel !== '' && rel.split(path.sep)[0] !== '..' && !path.isAbsolute(rel);
  });
  if (!inside) throw new InvalidInputError(`${what}: ${relative} is a symbolic link that leads outside the model folder (to ${real})`);
  return real;
}
