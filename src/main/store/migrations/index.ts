// The ordered list of schema migrations and the runner that applies the pending ones. The schema
// version lives in `PRAGMA user_version`; each migration runs in its own IMMEDIATE transaction that
// re-reads the version first, so two processes opening the same new file do not both migrate it.
import type { Database } from 'better-sqlite3';
import { DatabaseTooNewError, describeStoreError, StoreError } from '../errors';
import { migration0001 } from './0001-initial';
import { migration0002 } from './0002-run-launch';
import { migration0003 } from './0003-run-ids-never-reused';
import { migration0004 } from './0004-decision-outcomes';
import type { Migration } from './types';

export type { Migration } from './types';

/** Every migration, in order; SCHEMA_VERSIONS[i].version === i + 1. Append, never edit. */
export const SCHEMA_VERSIONS: readonly Migration[] = [migration0001, migration0002, migration0003, migration0004];

export function latestSchemaVersion(migrations: readonly Migration[] = SCHEMA_VERSIONS): number {
  return migrations.length;
}

export function readSchemaVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Refuses a database whose schema is ahead of this app's (a newer app wrote it). */
export function assertNotTooNew(db: Database, file: string, migrations: readonly Migration[] = SCHEMA_VERSIONS): void {
  const version = readSchemaVersion(db);
  const latest = latestSchemaVersion(migrations);
  if (version > latest) {
    throw new DatabaseTooNewError(
      `the database ${file} was written by a newer version of DynaMiCS Studio (schema version ${version}; this version knows up to ${latest}): update the app to open it`,
    );
  }
}

/**
 * Brings the database to the latest schema; returns the versions applied. A migration that throws
 * rolls back entirely (its tables and the version number) and the error names it.
 */
export function migrate(db: Database, file: string, migrations: readonly Migration[] = SCHEMA_VERSIONS): number[] {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration list out of order: entry ${i} has version ${m.version}`);
  });
  assertNotTooNew(db, file, migrations);
  const applied: number[] = [];
  if (readSchemaVersion(db) === migrations.length) return applied;

  // Foreign keys cannot be switched inside a transaction; SQLite's procedure for schema changes is
  // off, change, foreign_key_check, on.
  const foreignKeys = db.pragma('foreign_keys', { simple: true }) as number;
  db.pragma('foreign_keys = OFF');
  try {
    for (const m of migrations) {
      const step = db.transaction(() => {
        const current = readSchemaVersion(db);
        if (current >= m.version) return false;
        if (current !== m.version - 1) throw new Error(`cannot apply migration ${m.version} to schema version ${current}`);
        m.up(db);
        const broken = db.pragma('foreign_key_check') as unknown[];
        if (broken.length > 0) throw new Error(`${broken.length} foreign-key violations after the change`);
        db.pragma(`user_version = ${m.version}`);
        return true;
      });
      try {
        if (step.immediate()) applied.push(m.version);
      } catch (err) {
        const described = describeStoreError(err, `update it to schema version ${m.version}`, file);
        if (described instanceof StoreError) throw described;
        const why = err instanceof Error ? err.message : String(err);
        throw new StoreError(`could not update the database ${file} to schema version ${m.version} (${m.name}): ${why}`, { cause: err });
      }
    }
  } finally {
    if (foreignKeys) db.pragma('foreign_keys = ON');
  }
  return applied;
}
