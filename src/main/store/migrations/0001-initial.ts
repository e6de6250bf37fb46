// Schema version 1: catalog (datasets, models), runs with their summary columns, metric series
// and points, per-step progress, mixture decisions, checkpoints (with the resumable loop state)
// and events. Every row of a run cascades from `runs`, so deleting a run is one statement.
//
// Layout choices (measured by `npm run bench:store`):
// - A metric point is (run, step, kind, domain, value). (run, kind, domain) is normalized into
//   `metric_series`, and `metrics` is a WITHOUT ROWID table keyed (series_id, step): a curve is one
//   contiguous key range, a point is ~16 bytes, and UNIQUE(run, step, kind, domain) holds because
//   a series is unique per (run, kind, domain) and a point unique per (series, step).
// - Tokens seen and wall time belong to a step, not to each of its metrics: `steps` holds them
//   once per (run, step), and readers join them onto a curve by step.
// - The runs table carries the summary columns the runs list shows, so listing never aggregates
//   metrics.
// Times are integer milliseconds since the Unix epoch; JSON columns are checked with json_valid.
import type { Database } from 'better-sqlite3';
import type { Migration } from './types';

const SQL = `
CREATE TABLE datasets (
  id            INTEGER PRIMARY KEY,
  name          TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 256),
  path          TEXT    NOT NULL,
  format        TEXT    NOT NULL,
  sha256        TEXT    CHECK (sha256 IS NULL OR length(sha256) = 64),
  bytes         INTEGER CHECK (bytes IS NULL OR bytes >= 0),
  records       INTEGER CHECK (records IS NULL OR records >= 0),
  info          TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(info)),
  created_at    INTEGER NOT NULL
);

CREATE TABLE models (
  id            INTEGER PRIMARY KEY,
  name          TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 256),
  path          TEXT    NOT NULL,
  architecture  TEXT,
  parameters    INTEGER CHECK (parameters IS NULL OR parameters >= 0),
  info          TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(info)),
  created_at    INTEGER NOT NULL
);

CREATE TABLE runs (
  id              INTEGER PRIMARY KEY,
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
  -- progress, kept up to date by the metrics writer
  last_step       INTEGER,
  tokens_seen     INTEGER NOT NULL DEFAULT 0,
  duration_ms     INTEGER NOT NULL DEFAULT 0,
  -- summary, set when the run is scored (METHOD.md sections 5 and 7)
  feasible        INTEGER CHECK (feasible IS NULL OR feasible IN (0, 1)),
  target_gain     REAL,
  max_violation   REAL,
  cost_multiple   REAL,
  selected_step   INTEGER
);
CREATE INDEX runs_by_created ON runs (created_at DESC, id DESC);

CREATE TABLE metric_series (
  id      INTEGER PRIMARY KEY,
  run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  kind    TEXT    NOT NULL CHECK (length(kind) BETWEEN 1 AND 64),
  domain  TEXT    NOT NULL DEFAULT '' CHECK (length(domain) <= 128),
  UNIQUE (run_id, kind, domain)
);

CREATE TABLE metrics (
  series_id  INTEGER NOT NULL REFERENCES metric_series(id) ON DELETE CASCADE,
  step       INTEGER NOT NULL CHECK (step >= 0),
  value      REAL,  -- NULL stands for NaN, which SQLite cannot store
  PRIMARY KEY (series_id, step)
) WITHOUT ROWID;

CREATE TABLE steps (
  run_id   INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step     INTEGER NOT NULL CHECK (step >= 0),
  tokens   INTEGER NOT NULL CHECK (tokens >= 0),
  wall_ms  INTEGER NOT NULL CHECK (wall_ms >= 0),
  PRIMARY KEY (run_id, step)
) WITHOUT ROWID;

CREATE TABLE decisions (
  id         INTEGER PRIMARY KEY,
  run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step       INTEGER NOT NULL CHECK (step >= 0),
  horizon    INTEGER NOT NULL CHECK (horizon >= 0),
  weights    TEXT    NOT NULL CHECK (json_valid(weights)),
  slopes     TEXT    CHECK (slopes IS NULL OR json_valid(slopes)),
  losses     TEXT    CHECK (losses IS NULL OR json_valid(losses)),
  predicted  TEXT    CHECK (predicted IS NULL OR json_valid(predicted)),
  status     TEXT    NOT NULL CHECK (status IN ('feasible', 'infeasible', 'fixed')),
  solver     TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(solver)),
  binding    TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(binding)),
  UNIQUE (run_id, step)
);

CREATE TABLE checkpoints (
  id          INTEGER PRIMARY KEY,
  run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step        INTEGER NOT NULL CHECK (step >= 0),
  path        TEXT    NOT NULL,
  complete    INTEGER NOT NULL DEFAULT 0 CHECK (complete IN (0, 1)),
  sha256      TEXT    CHECK (sha256 IS NULL OR length(sha256) = 64),
  bytes       INTEGER CHECK (bytes IS NULL OR bytes >= 0),
  feasible    INTEGER CHECK (feasible IS NULL OR feasible IN (0, 1)),
  losses      TEXT    CHECK (losses IS NULL OR json_valid(losses)),
  state       TEXT    CHECK (state IS NULL OR json_valid(state)),
  created_at  INTEGER NOT NULL,
  UNIQUE (run_id, step),
  -- a complete checkpoint always has its hash and the loop state to resume from
  CHECK (complete = 0 OR (sha256 IS NOT NULL AND bytes IS NOT NULL AND state IS NOT NULL))
);

CREATE TABLE events (
  id       INTEGER PRIMARY KEY,
  run_id   INTEGER REFERENCES runs(id) ON DELETE CASCADE,
  at       INTEGER NOT NULL,
  level    TEXT    NOT NULL CHECK (level IN ('debug', 'info', 'warn', 'error')),
  message  TEXT    NOT NULL,
  step     INTEGER,
  data     TEXT    CHECK (data IS NULL OR json_valid(data))
);
CREATE INDEX events_by_run ON events (run_id, id);
`;

export const migration0001: Migration = {
  version: 1,
  name: 'initial schema',
  up(db: Database) {
    db.exec(SQL);
  },
};
