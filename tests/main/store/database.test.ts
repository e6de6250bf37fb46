// Opening the database: settings, migrations keyed on user_version, refusing a newer schema, and
// clear messages for a damaged file (a real file with real corrupted bytes).
import BetterSqlite3 from 'better-sqlite3';
import { closeSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkIntegrity, openDatabase } from '../../../src/main/store/database';
import { DatabaseDamagedError, DatabaseTooNewError, NotADatabaseError, StoreError } from '../../../src/main/store/errors';
import { migrate, SCHEMA_VERSIONS, type Migration } from '../../../src/main/store/migrations/index';
import { tempDir } from '../../helpers/temp';
import { createRun, openStore } from './helpers';

const dir = tempDir('dynamics-store-db-');
let n = 0;
const fresh = () => path.join(dir, `db-${++n}.db`);

describe('openDatabase', () => {
  it('creates the schema at the latest version with WAL, synchronous=FULL, foreign keys and a busy timeout', () => {
    const db = openDatabase(fresh());
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSIONS.length);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBeGreaterThan(0);
    const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").pluck().all();
    expect(tables).toEqual(['checkpoints', 'datasets', 'decision_outcomes', 'decisions', 'events', 'metric_series', 'metrics', 'models', 'runs', 'sqlite_sequence', 'steps']);
    db.close();
  });

  it('numbers migrations 1, 2, … without gaps', () => {
    SCHEMA_VERSIONS.forEach((m, i) => expect(m.version).toBe(i + 1));
  });

  it('reopens an up-to-date database without applying anything', () => {
    const file = fresh();
    openDatabase(file).close();
    const db = openDatabase(file);
    expect(migrate(db, file)).toEqual([]);
    db.close();
  });

  it('applies only the pending migrations, each with its version', () => {
    const file = fresh();
    openDatabase(file).close();
    const extra: Migration = { version: SCHEMA_VERSIONS.length + 1, name: 'add notes', up: (db) => db.exec('ALTER TABLE runs ADD COLUMN notes TEXT') };
    const db = openDatabase(file, { migrations: [...SCHEMA_VERSIONS, extra] });
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSIONS.length + 1);
    expect(db.prepare('SELECT notes FROM runs').all()).toEqual([]);
    db.close();
  });

  it('rolls a failing migration back entirely: no half-made table, version unchanged', () => {
    const file = fresh();
    openDatabase(file).close();
    const broken: Migration = {
      version: SCHEMA_VERSIONS.length + 1,
      name: 'broken',
      up: (db) => {
        db.exec('CREATE TABLE half_made (x INTEGER)');
        db.exec('INSERT INTO no_such_table VALUES (1)');
      },
    };
    expect(() => openDatabase(file, { migrations: [...SCHEMA_VERSIONS, broken] })).toThrow(new RegExp(`could not update the database .* to schema version ${SCHEMA_VERSIONS.length + 1} \\(broken\\)`));
    const raw = new BetterSqlite3(file);
    expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSIONS.length);
    expect(raw.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'half_made'").pluck().get()).toBe(0);
    raw.close();
  });

  it('refuses a database written by a newer version of the app, in words', () => {
    const file = fresh();
    openDatabase(file).close();
    const raw = new BetterSqlite3(file);
    raw.pragma('user_version = 99');
    raw.close();
    expect(() => openDatabase(file)).toThrow(DatabaseTooNewError);
    expect(() => openDatabase(file)).toThrow(new RegExp(`written by a newer version of DynaMiCS Studio \\(schema version 99; this version knows up to ${SCHEMA_VERSIONS.length}\\)`));
  });

  it('opens read-only without writing, and refuses a missing file clearly', () => {
    const file = fresh();
    openDatabase(file).close();
    const db = openDatabase(file, { readonly: true });
    expect(() => db.exec("INSERT INTO events (at, level, message) VALUES (0, 'info', 'x')")).toThrow();
    db.close();
    expect(() => openDatabase(path.join(dir, 'missing.db'), { readonly: true })).toThrow(StoreError);
  });

  it('refuses a file that is not a database, naming it, and leaves it as it was', () => {
    const file = fresh();
    const text = 'this is a text file, not SQLite '.repeat(200);
    writeFileSync(file, text);
    expect(() => openDatabase(file)).toThrow(NotADatabaseError);
    expect(() => openDatabase(file)).toThrow(new RegExp(`^the file ${file.replace(/[.]/g, '\\.')} is not an SQLite database \\(it does not start with SQLite's header\\); it was left as it is`));
    expect(readFileSync(file, 'utf8')).toBe(text);
    // A few bytes only, too short for a header.
    writeFileSync(file, 'hi');
    expect(() => openDatabase(file)).toThrow(NotADatabaseError);
  });

  it('refuses an empty file at the database path instead of starting a new store in it', () => {
    const file = fresh();
    writeFileSync(file, '');
    expect(() => openStore(file)).toThrow(NotADatabaseError);
    expect(() => openDatabase(file, { readonly: true })).toThrow(new RegExp(`^the database file ${file.replace(/[.]/g, '\\.')} is empty, so it holds no runs and is not an SQLite database; it was left as it is`));
    expect(statSync(file).size).toBe(0);
    // A folder at that path is refused in words too.
    const folder = fresh();
    mkdirSync(folder);
    expect(() => openDatabase(folder)).toThrow(/is not a file/);
  });

  it('finds a damaged page with integrity_check at open and says so in words', () => {
    const { file } = storeWithPages();
    corruptMiddlePage(file, 'metrics');
    let error: unknown;
    try {
      openStore(file);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DatabaseDamagedError);
    const message = (error as Error).message;
    expect(message).toMatch(/^the database .* is damaged \(SQLite's integrity_check says: .+\); restore it from a backup/);
    expect(message).toMatch(/Tree \d+ \(metrics\) page \d+/);
    expect(message).not.toMatch(/\n/);
  });

  it('on a large file checks the run-state tables at open and leaves the bulk metrics to a full check', () => {
    // fullCheckMaxBytes: 0 makes this small file count as large.
    const damagedState = storeWithPages();
    corruptMiddlePage(damagedState.file, 'runs');
    expect(() => openDatabase(damagedState.file, { fullCheckMaxBytes: 0 })).toThrow(/Tree \d+ \(runs\) page/);

    const damagedMetrics = storeWithPages();
    corruptMiddlePage(damagedMetrics.file, 'metrics');
    const db = openDatabase(damagedMetrics.file, { fullCheckMaxBytes: 0 });
    expect(() => checkIntegrity(db, damagedMetrics.file, 'full')).toThrow(DatabaseDamagedError);
    db.close();
  });
});

/** A store with enough rows that every table spans several pages. */
function storeWithPages(): { file: string } {
  const file = fresh();
  const store = openStore(file);
  for (let r = 0; r < 60; r++) createRun(store, `run ${r} ${'n'.repeat(150)}`);
  const writer = store.writerFor(1);
  for (let step = 0; step < 4000; step++) writer.metrics.record(step, { tokens: step, wallMs: step }, [{ kind: 'loss', value: step }]);
  writer.metrics.flush();
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  store.close();
  return { file };
}

/** Overwrites the cells of one leaf page of `table` in place (keeping the page-type byte). */
function corruptMiddlePage(file: string, table: string): void {
  const db = new BetterSqlite3(file, { readonly: true });
  const pages = db.prepare("SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno").pluck().all(table) as number[];
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  db.close();
  expect(pages.length).toBeGreaterThan(2);
  const victim = pages[Math.floor(pages.length / 2)]!;
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.alloc(pageSize - 8, 0xa5), 0, pageSize - 8, (victim - 1) * pageSize + 8);
  closeSync(fd);
}
