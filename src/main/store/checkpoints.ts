// Checkpoints end to end: where a run's files live, saving one (row begun → file written atomically
// → row completed with hash and loop state), loading one with its hash verified, finding the newest
// loadable one for a resume, and cleaning files whose rows are gone. Paths in the store are
// relative to the runs folder, so a data folder can be moved as a whole.
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { CheckpointDamagedError, StoreError } from './errors';
import { readCheckpointFile, removeStrayCheckpointFiles, writeCheckpointFile, type LoadedCheckpoint } from './checkpoint-files';
import type { RunReader } from './run-reader';
import type { RunWriter } from './run-writer';
import type { CheckpointRecord, Clock } from './types';

export interface SaveCheckpointInput {
  step: number;
  /** Small JSON returned with the payload on load (tensor layout, dtypes…). */
  meta: unknown;
  payload: Uint8Array | readonly Uint8Array[];
  /** The loop's resumable state at this step, stored in the database with the record. */
  state: unknown;
  feasible?: boolean | null;
  losses?: Record<string, number> | null;
}

/** A checkpoint whose file is in place but whose row is not complete yet (see CheckpointFiles.write). */
export interface WrittenCheckpoint {
  runId: number;
  step: number;
  /** Relative to the runs folder. */
  path: string;
  sha256: string;
  bytes: number;
  createdAt: number;
}

export interface LoadableCheckpoint {
  record: CheckpointRecord;
  content: LoadedCheckpoint;
  /** Newer complete checkpoints that failed verification, with the reason (for the event log). */
  skipped: { step: number; reason: string }[];
}

export class CheckpointFiles {
  private readonly root: string;

  constructor(runsDir: string, private readonly clock: Clock = Date.now) {
    this.root = path.resolve(runsDir);
  }

  /** The runs folder itself. */
  get runsDir(): string {
    return this.root;
  }

  /** A run's own folder: its checkpoints/ and whatever else belongs to the run (report, pid file). */
  runFolder(runId: number): string {
    return path.join(this.root, String(runId));
  }

  /** The folder holding a run's checkpoints. */
  folder(runId: number): string {
    return path.join(this.runFolder(runId), 'checkpoints');
  }

  /** The stored (relative, '/'-separated) path of a run's checkpoint at a step. */
  relativePath(runId: number, step: number): string {
    return `${runId}/checkpoints/step-${String(step).padStart(8, '0')}.ckpt`;
  }

  /** Resolves a stored path, refusing one that would leave the runs folder (an edited database). */
  absolute(relative: string): string {
    const resolved = path.resolve(this.root, ...relative.split('/'));
    if (!resolved.startsWith(this.root + path.sep)) throw new StoreError(`the checkpoint path ${relative} points outside the runs folder`);
    return resolved;
  }

  save(writer: RunWriter, input: SaveCheckpointInput): CheckpointRecord {
    const written = this.write(writer, input);
    writer.completeCheckpoint(input.step, { sha256: written.sha256, bytes: written.bytes, feasible: input.feasible ?? null, losses: input.losses ?? null, state: input.state });
    return { ...written, complete: true, feasible: input.feasible ?? null, losses: input.losses ?? null };
  }

  /**
   * The first half of a save: the row begun (incomplete, never offered for loading) and the file
   * written atomically. The trainer completes the row with `writer.completeCheckpoint` once the
   * loop's state for this step is known; until then a crash leaves only an incomplete row.
   */
  write(writer: RunWriter, input: Pick<SaveCheckpointInput, 'step' | 'meta' | 'payload'>): WrittenCheckpoint {
    const relative = this.relativePath(writer.runId, input.step);
    writer.beginCheckpoint(input.step, relative);
    const createdAt = this.clock();
    try {
      const written = writeCheckpointFile(this.absolute(relative), {
        header: { runId: writer.runId, step: input.step, createdAt, meta: input.meta },
        payload: input.payload,
      });
      return { runId: writer.runId, step: input.step, path: relative, sha256: written.sha256, bytes: written.bytes, createdAt };
    } catch (err) {
      try {
        writer.abandonCheckpoint(input.step);
      } catch {
        // The row stays incomplete, which is never selectable; the original error matters more.
      }
      throw err;
    }
  }

  /** Loads a complete checkpoint, verifying size and hash; CheckpointDamagedError otherwise. */
  load(record: CheckpointRecord): LoadedCheckpoint {
    if (!record.complete || record.sha256 === null || record.bytes === null) {
      throw new CheckpointDamagedError(`the checkpoint of run ${record.runId} at step ${record.step} was never completed`);
    }
    const content = readCheckpointFile(this.absolute(record.path), { sha256: record.sha256, bytes: record.bytes });
    if (content.header.runId !== record.runId || content.header.step !== record.step) {
      throw new CheckpointDamagedError(`the checkpoint file ${record.path} belongs to run ${content.header.runId} step ${content.header.step}`);
    }
    return content;
  }

  /** The newest complete checkpoint whose file verifies, skipping (and reporting) damaged ones. */
  latestLoadable(reader: RunReader, runId: number): LoadableCheckpoint | null {
    const skipped: LoadableCheckpoint['skipped'] = [];
    for (const record of reader.checkpoints(runId).reverse()) {
      try {
        return { record, content: this.load(record), skipped };
      } catch (err) {
        if (!(err instanceof CheckpointDamagedError)) throw err;
        skipped.push({ step: record.step, reason: err.message });
      }
    }
    return null;
  }

  /** Removes files whose rows were dropped (after a resume or a delete); missing files are fine. */
  remove(relativePaths: readonly string[]): void {
    for (const relative of relativePaths) rmSync(this.absolute(relative), { force: true });
  }

  /** Removes a run's whole folder (its checkpoints, report…) after the run was deleted. */
  removeRunFolder(runId: number): void {
    rmSync(this.runFolder(runId), { recursive: true, force: true });
  }

  /** The largest run id with a folder here (0 when none): the store must not hand it out again. */
  highestRunFolderId(): number {
    let highest = 0;
    let names: string[];
    try {
      names = readdirSync(this.root);
    } catch {
      return 0;
    }
    for (const name of names) if (/^\d{1,15}$/.test(name)) highest = Math.max(highest, Number(name));
    return highest;
  }

  /** Removes a run's temp files and files not recorded as complete; only while no trainer writes them. */
  sweep(reader: RunReader, runId: number): string[] {
    const keep = new Set(reader.checkpoints(runId).map((c) => path.posix.basename(c.path)));
    return removeStrayCheckpointFiles(this.folder(runId), keep);
  }
}
