// What the run commands share: the store they work on (the data directory's dynamics.db, or
// --db FILE), the runs folder beside it, the run supervisor a CLI command starts trainer
// processes with, and run ids read from arguments.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../../../shared/errors';
import { appVersion, dataLayout, resolveDataDir, resourcesDir, type DataLayout } from '../../paths';
import { ForkProcessLauncher } from '../../runner/process-launcher';
import { RunSupervisor } from '../../runner/supervisor';
import { CheckpointFiles } from '../../store/checkpoints';
import { Store } from '../../store/index';
import type { CliIo } from '../command';

export interface CliStore {
  layout: DataLayout;
  store: Store;
  files: CheckpointFiles;
  close(): void;
}

/**
 * Checkpoints of a database live in a runs folder beside it: the data directory's runs/ for its
 * dynamics.db, `NAME-runs/` for any other file (two databases in one folder never share one).
 */
export function runsDirFor(dbFile: string, layout: DataLayout): string {
  if (path.resolve(dbFile) === path.resolve(layout.database)) return layout.runs;
  return path.join(path.dirname(dbFile), `${path.basename(dbFile, path.extname(dbFile))}-runs`);
}

/** Opens the store named by --db (or the data directory's); `mustExist` for commands that only read. */
export function openCliStore(io: CliIo, db: string | undefined, options: { mustExist?: boolean } = {}): CliStore {
  const layout = dataLayout(resolveDataDir(io.env));
  const file = db ? path.resolve(db) : layout.database;
  if (options.mustExist && !existsSync(file)) {
    throw new UserError(db ? `there is no database ${file}` : `there are no runs yet (no database at ${file}; \`dynamics run CONFIG\` creates it)`);
  }
  const store = Store.open(file, { appVersion: appVersion() });
  const files = new CheckpointFiles(runsDirFor(file, layout));
  store.runs.keepIdsAbove(files.highestRunFolderId());
  return { layout, store, files, close: () => store.close() };
}

export function createCliSupervisor(cli: CliStore, threads: number | undefined): RunSupervisor {
  return new RunSupervisor({
    store: cli.store,
    files: cli.files,
    launcher: new ForkProcessLauncher(),
    appVersion: appVersion(),
    engine: {
      graphCacheDir: cli.layout.graphCache,
      tokenCacheDir: cli.layout.tokenCache,
      datasetsDir: cli.layout.datasets,
      resourcesDir: resourcesDir(),
      ...(threads !== undefined ? { threads } : {}),
    },
  });
}

export function parseRunId(value: string | undefined, command: string): number {
  if (value === undefined) throw new UserError(`\`dynamics ${command}\` needs a RUN_ID`);
  const id = Number(value);
  if (!Number.isSafeInteger(id) || id < 1 || !/^\d+$/.test(value)) throw new UserError(`${JSON.stringify(value)} is not a run id (a positive whole number, as \`dynamics runs list\` shows)`);
  return id;
}

export const DB_OPTION = { db: { type: 'string' } } as const;
