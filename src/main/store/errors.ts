// The store's failures in words. SQLite and the file system report codes (SQLITE_FULL, ENOSPC,
// SQLITE_CORRUPT…); users need a sentence that says what happened, to which file, and what to do.
// These are UserErrors: the condition is the user's to fix (free disk space, restore a backup,
// update the app), so the CLI prints the sentence and exits non-zero without a stack.
import { UserError } from '../../shared/errors';

export class StoreError extends UserError {
  override name = 'StoreError';
}

/** SQLITE_FULL, ENOSPC, EDQUOT, EFBIG: nothing already saved is lost, the write can be retried. */
export class DiskFullError extends StoreError {
  override name = 'DiskFull';
}

/**
 * The disk refused a write (SQLITE_IOERR, EIO): SQLite reports a write cut short by a file-size
 * limit this way. Like a full disk, nothing saved is lost and the write can be retried later.
 */
export class DiskWriteError extends StoreError {
  override name = 'DiskWrite';
}

/** The database file failed `PRAGMA integrity_check`, or is not a database at all. */
export class DatabaseDamagedError extends StoreError {
  override name = 'DatabaseDamaged';
}

/** The database was written by a newer version of the app (its schema is ahead of ours). */
/** The file at the database path is empty or not SQLite at all: refused, never replaced. */
export class NotADatabaseError extends StoreError {
  override name = 'NotADatabase';
}

export class DatabaseTooNewError extends StoreError {
  override name = 'DatabaseTooNew';
}

/** A checkpoint file whose bytes do not match what the store recorded, or whose format is wrong. */
export class CheckpointDamagedError extends StoreError {
  override name = 'CheckpointDamaged';
}

/** A run status change the lifecycle does not allow (e.g. resuming a completed run). */
export class RunStateError extends StoreError {
  override name = 'RunState';
}

interface CodedError {
  code?: unknown;
  message?: unknown;
}

function codeOf(err: unknown): string {
  const code = (err as CodedError | null)?.code;
  return typeof code === 'string' ? code : '';
}

function detailOf(err: unknown): string {
  const message = (err as CodedError | null)?.message;
  return typeof message === 'string' ? message : String(err);
}

const DISK_FULL_ERRNO = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

/** True for "no space left" from SQLite or the file system, including a file-size limit. */
export function isDiskFull(err: unknown): boolean {
  const code = codeOf(err);
  return code === 'SQLITE_FULL' || DISK_FULL_ERRNO.has(code);
}

/**
 * Turns a SQLite or file-system error met while doing `action` (a phrase: "save metrics of run 3")
 * on `file` into a StoreError with a sentence; returns anything else unchanged (an internal error).
 */
export function describeStoreError(err: unknown, action: string, file: string): unknown {
  if (err instanceof StoreError) return err;
  const code = codeOf(err);
  const detail = detailOf(err);
  if (isDiskFull(err)) {
    const limit = code === 'EFBIG' ? ' (or the file-size limit was reached)' : '';
    return new DiskFullError(
      `the disk is full${limit}: could not ${action} in ${file} (${detail}); free some space and retry — nothing already saved was lost`,
    );
  }
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
    return new DatabaseDamagedError(
      `the database ${file} is damaged (${detail}): could not ${action}; restore it from a backup or move it aside to start a new one`,
    );
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new StoreError(`the database ${file} stayed locked by another process: could not ${action} (${detail})`);
  }
  if (code.startsWith('SQLITE_READONLY') || code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new StoreError(`cannot write to ${file}: could not ${action} (${detail}); check the folder's permissions`);
  }
  if (code.startsWith('SQLITE_CANTOPEN')) {
    return new StoreError(`cannot open the database ${file} (${detail}); check that its folder exists and is writable`);
  }
  if (code.startsWith('SQLITE_IOERR') || code === 'EIO') {
    // SQLite reports a write cut short by a file-size limit (EFBIG) as an I/O error, not as full.
    return new DiskWriteError(
      `the disk refused a write: could not ${action} in ${file} (${detail}); check that the disk has free space and is healthy — nothing already saved was lost`,
    );
  }
  return err;
}

/** Runs `fn`, rethrowing storage failures as sentences (see describeStoreError). */
export function guard<T>(action: string, file: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw describeStoreError(err, action, file);
  }
}
