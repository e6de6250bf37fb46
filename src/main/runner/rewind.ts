// Where a stopped run continues from, for both kinds of trainer (our process, an external one): its
// newest checkpoint whose file verifies (each damaged one skipped with a warning on the run), the
// rows after it deleted, and the files of dropped checkpoints and stray temp files removed.
import type { CheckpointFiles } from '../store/checkpoints';
import type { Store } from '../store/index';
import type { ResumePoint } from '../store/run-store';

export function rewindToLatestCheckpoint(store: Store, files: CheckpointFiles, runId: number): ResumePoint {
  const latest = files.latestLoadable(store.reader, runId);
  for (const s of latest?.skipped ?? []) store.runs.event(runId, 'warn', `skipped the checkpoint at step ${s.step}: ${s.reason}`, { step: s.step });
  const point = store.runs.resumeFrom(runId, latest?.record.step ?? null);
  files.remove(point.removedCheckpointPaths);
  files.sweep(store.reader, runId);
  return point;
}
