// The metric kinds the views draw, as the run store records them.

/** Regular-evaluation loss, one series per domain. */
export const EVAL_LOSS = 'eval_loss';
/** Mean training loss per chunk, run-wide (domain ''). */
export const TRAIN_LOSS = 'train_loss';
