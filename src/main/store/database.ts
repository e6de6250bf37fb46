// Opening the SQLite file: the integrity check, the connection settings every process must share
// (WAL, synchronous=FULL, foreign keys, busy timeout) and the schema migrations. Each process opens
// its own connection: the trainer writes its run, the app and the CLI read (and write lifecycle
// changes) concurrently; WAL gives every reader a consistent snapshot while a writer commits.
import BetterSqlite3 from 'better-sqlite3';
import type { Database } from 'better-sqlite3';
import { closeSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { DatabaseDamagedError, guard, NotADatabaseError, StoreError } from './errors';
import { assertNotTooNew, latestSchemaVersion, migrate, readSchemaVersion, SCHEMA_VERSIONS, type Migration } from './migrations/index';

export type { Database } from 'better-sqlite3';

/**
 * - `full`: PRAGMA integrity_check — every page, every index entry. Measured by bench:store on the
 *   100M-point store (2.2 GiB): ~40 s on a busy 2-core machine, far too slow for every open.
 * - `state`: integrity_check of every table except the bulk metric tables (metrics, steps): the
 *   runs, checkpoints with their loop state, decisions, events, series and catalog — what a
 *   resume and the runs list depend on. Milliseconds at that size.
 * - `auto` (the default): `full` while the file is small (see fullCheckMaxBytes), `state` beyond;
 *   the full check of a large file belongs in the background or on request.
 * - `quick`: PRAGMA quick_check (structure without index contents). `none`: skipped.
 */
export type IntegrityCheck = 'auto' | 'full' | 'state' | 'quick' | 'none';

/** Up to this size (database + WAL) `auto` runs the full check: about a second or two here. */
export const AUTO_FULL_CHECK_MAX_BYTES = 128 * 2 ** 20;

/** Tables that hold the bulk of a large store and are left out of the `state` check. */
export const BULK_TABLES: readonly string[] = ['metrics', 'steps'];

export interface OpenDatabaseOptions {
  /** Open without writing (no migrations, no WAL switch); the file must exist. */
  readonly?: boolean;
  check?: IntegrityCheck;
  /** The size up to which `auto` runs the full check (bytes). */
  fullCheckMaxBytes?: number;
  /** How long a statement waits for another process's write lock before failing (ms). */
  busyTimeoutMs?: number;
  /** Page cache per connection, in KiB. */
  cacheKiB?: number;
  /** The migration list; tests pass their own, the app uses SCHEMA_VERSIONS. */
  migrations?: readonly Migration[];
  /**
   * better-sqlite3's compiled addon to load instead of its default: the desktop app passes the
   * build made for Electron's ABI (the default one is built for Node).
   */
  nativeBinding?: string;
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

function findingsOf(db: Database, pragma: string): string[] {
  const rows = db.pragma(pragma, { simple: false }) as Record<string, string>[];
  return rows
    .flatMap((row) => (Object.values(row)[0] ?? '').split('\n'))
    .map((line) => line.trim())
    .filter((line) => line !== 'ok' && line !== '' && !line.startsWith('*** in database'));
}

/** Runs an integrity check (not `auto`/`none`) and throws DatabaseDamagedError with SQLite's first findings. */
export function checkIntegrity(db: Database, file: string, kind: 'full' | 'state' | 'quick' = 'full'): void {
  const pragma = kind === 'quick' ? 'quick_check' : 'integrity_check';
  const findings = guard('check its integrity', file, () => {
    if (kind !== 'state') return findingsOf(db, `${pragma}(${INTEGRITY_LINES_SHOWN})`);
    const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
    return ['sqlite_schema', ...tables.filter((t) => !BULK_TABLES.includes(t))].flatMap((table) => findingsOf(db, `integrity_check("${table}")`));
  })
    .slice(0, INTEGRITY_LINES_SHOWN)
    .map((line) => nameTrees(db, line));
  if (findings.length > 0) {
    throw new DatabaseDamagedError(
      `the database ${file} is damaged (SQLite's ${pragma} says: ${findings.join('; ')}); restore it from a backup or move it aside to start a new one`,
    );
  }
}

function storedBytes(file: string): number {
  const size = (f: string) => {
    try {
      return statSync(f).size;
    } catch {
      return 0;
    }
  };
  return size(file) + size(`${file}-wal`);
}

/** Every SQLite database file starts with these 16 bytes. */
const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * Refuses a file at the database path that is not an SQLite database: SQLite itself would take an
 * empty file for a new database (and the user's runs would seem gone), and reports another file
 * only as "not a database" once it tries to read it. A missing file is fine (it is created).
 */
function assertSqliteFile(file: string): void {
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new NotADatabaseError(`the database path ${file} is not a file; name a database file with --db or move it aside`);
    size = st.size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  // An empty file beside a write-ahead log that holds data is a database whose pages are still in
  // the log: SQLite reads it back.
  if (size === 0 && storedBytes(file) > 0) return;
  if (size === 0) {
    throw new NotADatabaseError(`the database file ${file} is empty, so it holds no runs and is not an SQLite database; it was left as it is: delete it to start a new store there, or restore it from a backup`);
  }
  const head = Buffer.alloc(SQLITE_HEADER.length);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  if (!head.equals(SQLITE_HEADER)) {
    throw new NotADatabaseError(`the file ${file} is not an SQLite database (it does not start with SQLite's header); it was left as it is: move it aside or name another database file`);
  }
}

/** Opens (creating when needed), checks, configures and migrates the database at `file`. */
export function openDatabase(file: string, options: OpenDatabaseOptions = {}): Database {
  const readonly = options.readonly ?? false;
  const migrations = options.migrations ?? SCHEMA_VERSIONS;
  assertSqliteFile(file);
  if (!readonly) mkdirSync(path.dirname(file), { recursive: true });
  const db = guard('open it', file, () => new BetterSqlite3(file, { readonly, fileMustExist: readonly, ...(options.nativeBinding ? { nativeBinding: options.nativeBinding } : {}) }));
  try {
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 10_000}`);
    const check = options.check ?? 'auto';
    if (check === 'auto') checkIntegrity(db, file, storedBytes(file) <= (options.fullCheckMaxBytes ?? AUTO_FULL_CHECK_MAX_BYTES) ? 'full' : 'state');
    else if (check !== 'none') checkIntegrity(db, file, check);
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
