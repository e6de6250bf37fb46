// Run ids are never reused (schema version 3): a fresh store and a store made at schema version 2
// with runs in it, migrated in place; rows, ids and cascades survive the table rebuild.
import BetterSqlite3 from 'better-sqlite3';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCore } from '../../../src/main/bootstrap';
import { openDatabase } from '../../../src/main/store/database';
import { SCHEMA_VERSIONS } from '../../../src/main/store/migrations/index';
import { Store } from '../../../src/main/store/index';
import { tempDir } from '../../helpers/temp';
import { APP_VERSION, createRun, openStore } from './helpers';

const dir = tempDir('dynamics-store-ids-');
let n = 0;
const fresh = () => path.join(dir, `db-${++n}.db`);

describe('run ids', () => {
  it('are not reused after the newest run is deleted', () => {
    const store = openStore(fresh());
    const a = createRun(store, 'a');
    const b = createRun(store, 'b');
    store.runs.delete(b);
    const c = createRun(store, 'c');
    expect(c).toBeGreaterThan(b);
    store.runs.delete(c);
    store.runs.delete(a);
    expect(createRun(store, 'd')).toBe(c + 1);
    store.close();
  });

  it('skip ids the caller reserves (a run folder left on disk), and never go back down', () => {
    const store = openStore(fresh());
    store.runs.keepIdsAbove(41);
    expect(createRun(store)).toBe(42);
    store.runs.keepIdsAbove(10);
    expect(createRun(store)).toBe(43);
    store.close();
  });

  it('migrate a schema-2 store with runs: rows, ids, metrics and cascades kept, the next id above every earlier one', () => {
    const file = fresh();
    const v2 = SCHEMA_VERSIONS.slice(0, 2);
    // A store written by the previous version: three runs with metrics, the newest then deleted.
    const old = openDatabase(file, { migrations: v2 });
    const insert = old.prepare(`INSERT INTO runs (name, config, strategy, seed, app_version, created_at, updated_at, launch, tags)
      VALUES (?, '{"steps":5}', 'dynamics', 1, '0.0.9', 1000, 1000, ?, '["x"]')`);
    for (const name of ['one', 'two', 'three']) insert.run(name, name === 'two' ? '{"baseDir":"/data"}' : null);
    old.prepare("INSERT INTO metric_series (run_id, kind, domain) VALUES (2, 'eval_loss', 'code')").run();
    old.prepare('INSERT INTO metrics (series_id, step, value) VALUES (1, 10, 1.5), (1, 20, 1.25)').run();
    old.prepare('INSERT INTO steps (run_id, step, tokens, wall_ms) VALUES (2, 10, 640, 5)').run();
    old.prepare('DELETE FROM runs WHERE id = 3').run();
    old.close();

    const store = Store.open(file, { appVersion: APP_VERSION });
    expect(store.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSIONS.length);
    expect(store.db.prepare("SELECT sql FROM sqlite_schema WHERE name = 'runs'").pluck().get()).toMatch(/AUTOINCREMENT/);
    expect(store.db.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'runs'").pluck().all()).toContain('runs_by_created');
    expect(store.reader.list().map((r) => [r.id, r.name]).sort()).toEqual([[1, 'one'], [2, 'two']]);
    expect(store.reader.get(2).tags).toEqual(['x']);
    expect(store.db.prepare('SELECT launch FROM runs WHERE id = 2').pluck().get()).toBe('{"baseDir":"/data"}');
    expect(store.reader.curves(2).series.map((s) => [s.steps, s.values, s.tokens])).toEqual([[[10, 20], [1.5, 1.25], [640, null]]]);
    expect(store.db.pragma('foreign_key_check')).toEqual([]);

    // Id 3 was deleted before the migration, so the database cannot know it: the reservation does.
    store.runs.keepIdsAbove(3);
    const next = createRun(store);
    expect(next).toBe(4);
    // The rebuilt table still cascades: deleting run 2 removes its series, points and steps.
    store.runs.delete(2);
    expect(store.db.prepare('SELECT count(*) FROM metric_series').pluck().get()).toBe(0);
    expect(store.db.prepare('SELECT count(*) FROM metrics').pluck().get()).toBe(0);
    expect(store.db.prepare('SELECT count(*) FROM steps').pluck().get()).toBe(0);
    store.runs.delete(next);
    expect(createRun(store)).toBe(5);
    store.close();

    const raw = new BetterSqlite3(file, { readonly: true });
    expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
    raw.close();
  });

  it('skip the id of a run folder left on disk when the app’s core opens the store', async () => {
    const home = path.join(dir, 'home');
    // What a run deleted before schema version 3 left: its folder, with a report in it.
    mkdirSync(path.join(home, 'runs', '41'), { recursive: true });
    writeFileSync(path.join(home, 'runs', '41', 'report.json'), '{}');
    const core = createCore({ dataDir: home });
    try {
      expect(createRun(core.store)).toBe(42);
    } finally {
      await core.close();
    }
  });

  it('migrate an empty schema-2 store', () => {
    const file = fresh();
    openDatabase(file, { migrations: SCHEMA_VERSIONS.slice(0, 2) }).close();
    const store = Store.open(file, { appVersion: APP_VERSION });
    expect(createRun(store)).toBe(1);
    store.close();
  });
});
