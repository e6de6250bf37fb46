// What a run does with each dataset it reads: per source (train split) and per domain (eval and
// test splits), how many rows it makes, and — for chats and prompt/completion pairs, one example
// per padded row — how many examples were longer than the sequence, cut or dropped, and the
// tokens lost. Written into the run's log (`dynamics runs show`, runs.events) and its report file.
import type { DatasetUse } from '../../shared/datasets';
import { PaddedSequences, type SequenceSource, type Truncation } from '../data/sequences';
import type { SplitName } from '../data/splits';

export type { DatasetUse } from '../../shared/datasets';

export function datasetUse(role: DatasetUse['role'], id: string, dataset: string, split: SplitName, rows: SequenceSource): DatasetUse {
  const padded = rows instanceof PaddedSequences ? rows : null;
  return {
    role, id, dataset, split, seqLen: rows.seqLen, rows: rows.count, truncation: padded?.mode ?? null,
    truncated: padded?.truncation.examples ?? 0, tokensLost: padded?.truncation.tokensLost ?? 0, lossTokensLost: padded?.truncation.lossTokensLost ?? 0,
  };
}

const HOW: Record<Truncation, string> = { left: 'cut from the left (their ends kept)', right: 'cut from the right', drop: 'dropped' };

/** One line for the run's log. */
export function describeDatasetUse(u: DatasetUse): string {
  const what = `${u.role} ${u.id} (${u.dataset}), ${u.split} split`;
  if (u.truncation === null) return `${what}: ${u.rows} packed rows of ${u.seqLen} tokens, nothing truncated`;
  if (u.truncated === 0) return `${what}: ${u.rows} rows, every example fits in ${u.seqLen} tokens`;
  const rows = u.truncation === 'drop' ? `${u.rows} rows left` : `${u.rows} rows`;
  return `${what}: ${u.truncated} examples longer than ${u.seqLen} tokens ${HOW[u.truncation]}, ${u.tokensLost} tokens lost (${u.lossTokensLost} of them trained on); ${rows}`;
}
