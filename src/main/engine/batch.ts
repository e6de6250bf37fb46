// The token batch the data layer hands the engine. Hugging Face causal-LM convention: `labels`
// are aligned with `inputIds` and the loss shifts, so position t is scored against labels[t+1];
// a label of -100 is ignored (prompt tokens, padding).
import { InvalidInputError } from '../../shared/errors';

export interface TokenBatch {
  batchSize: number;
  seqLen: number;
  /** B*T token ids, row-major. */
  inputIds: Int32Array;
  /** B*T labels, row-major; -100 = ignored. */
  labels: Int32Array;
}

export const IGNORE_LABEL = -100;

/** Checks a batch against the shape a graph was built for and the vocabulary; one sentence on failure. */
export function checkBatch(batch: TokenBatch, shape: { batchSize: number; seqLen: number }, vocab: number): void {
  const { batchSize: B, seqLen: T } = batch;
  if (B !== shape.batchSize || T !== shape.seqLen) {
    throw new InvalidInputError(`batch is ${B}×${T} but the graph was built for ${shape.batchSize}×${shape.seqLen}`);
  }
  if (batch.inputIds.length !== B * T) throw new InvalidInputError(`batch inputIds has ${batch.inputIds.length} entries, expected ${B * T}`);
  if (batch.labels.length !== B * T) throw new InvalidInputError(`batch labels has ${batch.labels.length} entries, expected ${B * T}`);
  for (let i = 0; i < B * T; i++) {
    const id = batch.inputIds[i]!;
    if (id < 0 || id >= vocab) throw new InvalidInputError(`batch inputIds[${i}] = ${id} is outside the vocabulary (0..${vocab - 1})`);
    const l = batch.labels[i]!;
    if (l !== IGNORE_LABEL && (l < 0 || l >= vocab)) throw new InvalidInputError(`batch labels[${i}] = ${l} is neither -100 nor inside the vocabulary (0..${vocab - 1})`);
  }
}

/** Labels kept by the shifted loss (the first position of each row is never scored). */
export function keptLabels(batch: TokenBatch): number {
  let n = 0;
  for (let b = 0; b < batch.batchSize; b++) {
    for (let t = 1; t < batch.seqLen; t++) if (batch.labels[b * batch.seqLen + t] !== IGNORE_LABEL) n++;
  }
  return n;
}
