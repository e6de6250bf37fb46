// The store's public face: open one connection and get its repositories. Each process builds its
// own Store (the app's main process and the CLI read and manage runs; a trainer process writes its
// run through `writerFor`). The composition root owns it; nothing here is a module singleton.
import { closeDatabase, openDatabase, type Database, type OpenDatabaseOptions } from './database';
import { CatalogStore } from './catalog';
import { RunReader } from './run-reader';
import { RunStore } from './run-store';
import { RunWriter, type RunWriterOptions } from './run-writer';
import type { Clock } from './types';

export interface StoreOptions extends OpenDatabaseOptions {
  appVersion: string;
  clock?: Clock;
}

export class Store {
  readonly runs: RunStore;
  readonly reader: RunReader;
  readonly catalog: CatalogStore;

  private constructor(readonly db: Database, private readonly clock: Clock, appVersion: string) {
    this.runs = new RunStore(db, { appVersion, clock });
    this.reader = new RunReader(db);
    this.catalog = new CatalogStore(db, { clock });
  }

  static open(file: string, options: StoreOptions): Store {
    const db = openDatabase(file, options);
    return new Store(db, options.clock ?? Date.now, options.appVersion);
  }

  /** The file this store reads and writes. */
  get file(): string {
    return this.db.name;
  }

  /** The writer a trainer uses for its run (one per run per process). */
  writerFor(runId: number, options: RunWriterOptions = {}): RunWriter {
    return new RunWriter(this.db, runId, { clock: this.clock, ...options });
  }

  close(): void {
    closeDatabase(this.db);
  }
}

export { CatalogStore, RunReader, RunStore, RunWriter };
export { CheckpointFiles } from './checkpoints';
export type { LoadableCheckpoint, SaveCheckpointInput, WrittenCheckpoint } from './checkpoints';
export { checkStore } from './integrity';
export type { StoreCheckOptions, StoreCheckReport, StoreFinding } from './integrity';
export { checkIntegrity, closeDatabase, openDatabase } from './database';
export type { IntegrityCheck, OpenDatabaseOptions } from './database';
export * from './errors';
export { canResume, canTransition } from './lifecycle';
export { MetricsWriter } from './metrics-writer';
export { latestSchemaVersion, migrate, SCHEMA_VERSIONS } from './migrations/index';
export type { ResumePoint } from './run-store';
export type { RunCurves } from './run-reader';
export type * from './types';
export { RUN_STATUSES } from './types';
