// Opening the SQLite file: the integrity check, the connection settings every process must share
// (WAL, synchronous=FULL, foreign keys, busy timeout) and the schema migrations. Each process opens
// its own connection: the trainer writes its run, the app and the CLI read (and write lifecycle
// changes) concurrently; WAL gives every reader a consistent snapshot while a writer commits.
import BetterSqlite3 from 'better-sqlite3';
import type { Database } from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseDamagedError, guard, StoreError } from './errors';
import { assertNotTooNew, latestSchemaVersion, migrate, readSchemaVersion, SCHEMA_VERSIONS, type Migration } from './migrations/index';

export type { Database } from 'better-sqlite3';

/**
 * `full` runs PRAGMA integrity_check (reads every page and checks every index entry), `quick`
 * runs quick_check (pages and structure, not index contents; several times faster on large files),
 * `none` skips it.
 */
export type IntegrityCheck = 'full' | 'quick' | 'none';

export interface OpenDatabaseOptions {
  /** Open without writing (no migrations, no WAL switch); the file must exist. */
  readonly?: boolean;
  check?: IntegrityCheck;
  /** How long a statement waits for another process's write lock before failing (ms). */
  busyTimeoutMs?: number;
  /** Page cache per connection, in KiB. */
  cacheKiB?: number;
  /** The migration list; tests pass their own, the app uses SCHEMA_VERSIONS. */
  migrations?: readonly Migration[];
}

const INTEGRITY_LINES_SHOWN = 3;

/** SQLite names B-trees by root page ("Tree 8 page 34…"); say which table or index that is, when the schema still reads. */
function nameTrees(db: Database, line: string): string {
  return line.replace(/^Tree (\d+)/, (whole, root: string) => {
    try {
      const name = db.prepare('SELECT name FROM sqlite_schema WHERE rootpage = ?').pluck().get(Number(root));
      return typeof name === 'string' ? `${whole} (${name})` : whole;
    } catch {
      return whole;
    }
  });
}

/** Runs the integrity check and throws DatabaseDamagedError with SQLite's first findings. */
export function checkIntegrity(db: Database, file: string, kind: Exclude<IntegrityCheck, 'none'> = 'full'): void {
  const pragma = kind === 'full' ? 'integrity_check' : 'quick_check';
  const lines = guard('check its integrity', file, () => db.pragma(`${pragma}(${INTEGRITY_LINES_SHOWN})`, { simple: false }) as Record<string, string>[]);
  const findings = lines
    .flatMap((row) => (Object.values(row)[0] ?? '').split('\n'))
    .map((line) => line.trim())
    .filter((line) => line !== 'ok' && line !== '' && !line.startsWith('*** in database'))
    .slice(0, INTEGRITY_LINES_SHOWN)
    .map((line) => nameTrees(db, line));
  if (findings.length > 0) {
    throw new DatabaseDamagedError(
      `the database ${file} is damaged (SQLite's ${pragma} says: ${findings.join('; ')}); restore it from a backup or move it aside to start a new one`,
    );
  }
}

/** Opens (creating when needed), checks, configures and migrates the database at `file`. */
export function openDatabase(file: string, options: OpenDatabaseOptions = {}): Database {
  const readonly = options.readonly ?? false;
  const migrations = options.migrations ?? SCHEMA_VERSIONS;
  if (!readonly) mkdirSync(path.dirname(file), { recursive: true });
  const db = guard('open it', file, () => new BetterSqlite3(file, { readonly, fileMustExist: readonly }));
  try {
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 10_000}`);
    const check = options.check ?? 'full';
    if (check !== 'none') checkIntegrity(db, file, check);
    guard('configure it', file, () => {
      if (!readonly) {
        const mode = db.pragma('journal_mode = WAL', { simple: true });
        if (mode !== 'wal') throw new StoreError(`the database ${file} cannot use write-ahead logging (journal mode stays ${String(mode)})`);
        // Bounds the -wal file left after a large write; it is reused, not regrown, afterwards.
        db.pragma('journal_size_limit = 67108864');
      }
      // WAL's default is NORMAL (a commit can be lost on power failure); run state must not be.
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      db.pragma(`cache_size = -${options.cacheKiB ?? 16_384}`);
    });
    if (readonly) {
      assertNotTooNew(db, file, migrations);
      const version = readSchemaVersion(db);
      if (version < latestSchemaVersion(migrations)) {
        throw new StoreError(`the database ${file} uses an older schema (version ${version}); open it once for writing so it can be updated`);
      }
    } else {
      migrate(db, file, migrations);
    }
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/** Closes a connection; the last one to close also folds the WAL back into the main file. */
export function closeDatabase(db: Database): void {
  if (!db.open) return;
  try {
    if (!db.readonly) db.pragma('optimize');
  } catch {
    // Best effort: refreshing planner statistics must not stop a close (a full disk, a busy file).
  }
  db.close();
}
