// The full check of a store, on request (`dynamics runs check`) rather than at every open: SQLite's
// integrity_check of every page and index, the foreign keys, every complete checkpoint's file
// against the size and hash recorded when it was saved, and what a crash or an interrupted
// deletion can leave in the runs folder. It reports findings in words; it changes nothing.
import { readdirSync } from 'node:fs';
import { checkIntegrity } from './database';
import { CheckpointDamagedError, DatabaseDamagedError } from './errors';
import { isTempCheckpointName } from './checkpoint-files';
import type { CheckpointFiles } from './checkpoints';
import type { Store } from './index';

export interface StoreFinding {
  /** `error`: something is damaged; `warning`: leftovers or a state that needs a decision. */
  severity: 'error' | 'warning';
  runId: number | null;
  message: string;
}

export interface StoreCheckReport {
  file: string;
  runs: number;
  checkpointsVerified: number;
  bytesVerified: number;
  findings: StoreFinding[];
  /** No error (warnings allowed). */
  ok: boolean;
}

export interface StoreCheckOptions {
  /** Whether a trainer process is running this run now; runs marked running without one are reported. */
  isActive?: (runId: number) => boolean;
  /** Called before each run's checkpoints are verified (a progress line for large stores). */
  onRun?: (runId: number, index: number, count: number) => void;
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return [];
    throw err;
  }
}

export function checkStore(store: Store, files: CheckpointFiles, options: StoreCheckOptions = {}): StoreCheckReport {
  const findings: StoreFinding[] = [];
  const report = (severity: StoreFinding['severity'], runId: number | null, message: string) => findings.push({ severity, runId, message });
  const result = (): StoreCheckReport => ({
    file: store.file, runs, checkpointsVerified, bytesVerified, findings, ok: !findings.some((f) => f.severity === 'error'),
  });
  let runs = 0;
  let checkpointsVerified = 0;
  let bytesVerified = 0;

  try {
    checkIntegrity(store.db, store.file, 'full');
  } catch (err) {
    if (!(err instanceof DatabaseDamagedError)) throw err;
    // Nothing read from a damaged file can be trusted; stop at the finding that matters.
    report('error', null, err.message);
    return result();
  }
  const broken = store.db.pragma('foreign_key_check') as { table: string; rowid: number; parent: string }[];
  for (const b of broken.slice(0, 5)) report('error', null, `the ${b.table} row ${b.rowid} refers to a ${b.parent} row that does not exist`);
  if (broken.length > 5) report('error', null, `${broken.length - 5} more rows refer to rows that do not exist`);

  const list = store.reader.list();
  runs = list.length;
  const known = new Set(list.map((r) => r.id));
  list.forEach((run, index) => {
    options.onRun?.(run.id, index, list.length);
    const active = options.isActive?.(run.id);
    if (run.status === 'running' && active === false) {
      report('warning', run.id, `run ${run.id} is marked running, but no trainer process runs it (it stopped without saying so); \`dynamics resume ${run.id}\` continues it`);
    }
    const complete = store.reader.checkpoints(run.id);
    for (const record of complete) {
      try {
        files.load(record);
        checkpointsVerified++;
        bytesVerified += record.bytes ?? 0;
      } catch (err) {
        if (!(err instanceof CheckpointDamagedError)) throw err;
        report('error', run.id, `run ${run.id}: ${err.message}; a resume skips it and starts from an older checkpoint`);
      }
    }
    // A running run's folder is being written: its temp and incomplete files are in flight.
    if (run.status === 'running' && active !== false) return;
    const keep = new Set(store.reader.checkpoints(run.id, { includeIncomplete: true }).map((c) => c.path.split('/').at(-1)));
    const strays = listDir(files.folder(run.id)).filter((name) => isTempCheckpointName(name) || (name.endsWith('.ckpt') && !keep.has(name)));
    if (strays.length > 0) {
      report('warning', run.id, `run ${run.id} has ${strays.length} checkpoint file${strays.length === 1 ? '' : 's'} the store does not list (left by a crash: ${strays.slice(0, 3).join(', ')}${strays.length > 3 ? ', …' : ''}); a resume removes them`);
    }
  });

  for (const name of listDir(files.runsDir)) {
    if (/^\d+$/.test(name) && !known.has(Number(name))) {
      report('warning', null, `the runs folder holds ${name}/, which belongs to no run (a deletion cut short); it can be removed`);
    }
  }
  return result();
}
