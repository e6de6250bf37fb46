// Schema version 3: run ids are never reused. Without AUTOINCREMENT SQLite hands out max(id) + 1,
// so deleting the newest run gave its id to the next one, which then wrote into the folder and the
// report the deleted run left behind. `runs` is rebuilt with INTEGER PRIMARY KEY AUTOINCREMENT the
// way SQLite documents a table change (new table, copy, drop, rename, indexes again); the other
// tables keep referring to `runs` by name, and every row keeps its id. The sequence starts at the
// largest id in use: ids of runs deleted before this version are unknown to the database, so the
// store raises it past any run folder left on disk when it opens (RunStore.keepIdsAbove).
import type { Database } from 'better-sqlite3';
import type { Migration } from './types';

const SQL = `
CREATE TABLE runs_v3 (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  name            TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 256),
  config          TEXT    NOT NULL CHECK (json_valid(config)),
  strategy        TEXT    NOT NULL,
  seed            INTEGER NOT NULL,
  model_id        INTEGER REFERENCES models(id) ON DELETE SET NULL,
  sources         TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(sources)),
  domains         TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(domains)),
  tags            TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(tags)),
  status          TEXT    NOT NULL DEFAULT 'created' CHECK (status IN
                    ('created', 'running', 'paused', 'interrupted', 'completed', 'failed', 'cancelled')),
  status_reason   TEXT,
  app_version     TEXT    NOT NULL,
  device          TEXT,
  device_reason   TEXT,
  created_at      INTEGER NOT NULL,
  started_at      INTEGER,
  updated_at      INTEGER NOT NULL,
  finished_at     INTEGER,
  total_steps     INTEGER,
  last_step       INTEGER,
  tokens_seen     INTEGER NOT NULL DEFAULT 0,
  duration_ms     INTEGER NOT NULL DEFAULT 0,
  feasible        INTEGER CHECK (feasible IS NULL OR feasible IN (0, 1)),
  target_gain     REAL,
  max_violation   REAL,
  cost_multiple   REAL,
  selected_step   INTEGER,
  launch          TEXT    CHECK (launch IS NULL OR json_valid(launch))
);
INSERT INTO runs_v3 (id, name, config, strategy, seed, model_id, sources, domains, tags, status, status_reason,
  app_version, device, device_reason, created_at, started_at, updated_at, finished_at, total_steps, last_step,
  tokens_seen, duration_ms, feasible, target_gain, max_violation, cost_multiple, selected_step, launch)
SELECT id, name, config, strategy, seed, model_id, sources, domains, tags, status, status_reason,
  app_version, device, device_reason, created_at, started_at, updated_at, finished_at, total_steps, last_step,
  tokens_seen, duration_ms, feasible, target_gain, max_violation, cost_multiple, selected_step, launch
FROM runs;
DROP TABLE runs;
ALTER TABLE runs_v3 RENAME TO runs;
CREATE INDEX runs_by_created ON runs (created_at DESC, id DESC);
`;

export const migration0003: Migration = {
  version: 3,
  name: 'run ids never reused',
  up(db: Database) {
    db.exec(SQL);
    // The copy set the sequence to max(id) already, except for an empty table: write the row
    // either way so that keepIdsAbove can raise it.
    const max = db.prepare('SELECT coalesce(max(id), 0) FROM runs').pluck().get() as number;
    db.prepare("DELETE FROM sqlite_sequence WHERE name = 'runs'").run();
    db.prepare("INSERT INTO sqlite_sequence (name, seq) VALUES ('runs', ?)").run(max);
  },
};
