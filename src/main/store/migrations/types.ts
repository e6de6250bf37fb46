// What one numbered migration is. A migration is never edited once shipped: a schema change is a
// new file with the next number, appended to SCHEMA_VERSIONS.
import type { Database } from 'better-sqlite3';

export interface Migration {
  /** The `user_version` this migration brings the database to (1, 2, …, without gaps). */
  version: number;
  /** A few words for logs and errors. */
  name: string;
  /**
   * Applies the change. Runs inside a transaction, with foreign keys off (so a table can be
   * rebuilt the way SQLite documents it); the runner checks `foreign_key_check` before committing.
   */
  up(db: Database): void;
}
