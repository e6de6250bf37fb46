// Schema version 4: what each mixture decision predicted and what happened (online calibration,
// METHOD §10). One row per decision and domain: the change of the domain's probe-set loss over the
// decision's horizon as the uncalibrated linear model predicted it, as the calibrated model the
// solver used predicted it, and as the evaluation at the end of the horizon measured it. A resume
// or backtrack to step s deletes the rows measured after s, like every other row after s.
import type { Database } from 'better-sqlite3';
import type { Migration } from './types';

export const migration0004: Migration = {
  version: 4,
  name: 'decision outcomes',
  up(db: Database) {
    db.exec(`CREATE TABLE decision_outcomes (
  run_id       INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step         INTEGER NOT NULL CHECK (step >= 0),
  domain_index INTEGER NOT NULL CHECK (domain_index >= 0),
  domain       TEXT    NOT NULL,
  measured_at  INTEGER NOT NULL CHECK (measured_at > step),
  predicted    REAL    NOT NULL,
  calibrated   REAL    NOT NULL,
  actual       REAL    NOT NULL,
  PRIMARY KEY (run_id, step, domain_index)
) WITHOUT ROWID`);
  },
};
