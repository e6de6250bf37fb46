// Schema version 2: how each run was launched (runs.launch, JSON). A run is resumed later, possibly
// by another process or another session, from what the store holds: the config is in runs.config,
// but relative model and dataset paths resolve against the config file's folder, and the runs of
// a baseline suite must be found together. Older rows get NULL (launched before this existed).
import type { Database } from 'better-sqlite3';
import type { Migration } from './types';

export const migration0002: Migration = {
  version: 2,
  name: 'run launch details',
  up(db: Database) {
    db.exec('ALTER TABLE runs ADD COLUMN launch TEXT CHECK (launch IS NULL OR json_valid(launch))');
  },
};
