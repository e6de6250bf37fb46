// Learning-rate schedules, as Hugging Face's get_*_schedule_with_warmup define them: a linear
// warmup from 0, then constant, linear decay to 0, or cosine decay (to a floor, 0 by default).
import { InvalidInputError } from '../../../shared/errors';

export type LrSchedule =
  | { kind: 'constant'; lr: number; warmupSteps?: number }
  | { kind: 'linear'; lr: number; warmupSteps: number; totalSteps: number }
  | { kind: 'cosine'; lr: number; warmupSteps: number; totalSteps: number; minLrRatio?: number };

export function validateSchedule(s: LrSchedule): LrSchedule {
  if (!Number.isFinite(s.lr) || s.lr < 0) throw new InvalidInputError(`learning rate must be a non-negative number, got ${s.lr}`);
  const warm = s.warmupSteps ?? 0;
  if (!Number.isInteger(warm) || warm < 0) throw new InvalidInputError(`warmup steps must be a non-negative integer, got ${warm}`);
  if (s.kind !== 'constant' && (!Number.isInteger(s.totalSteps) || s.totalSteps < 1 || s.totalSteps < warm)) {
    throw new InvalidInputError(`total steps must be an integer of at least 1 and at least the warmup steps, got ${s.totalSteps}`);
  }
  return s;
}

/** The learning rate at optimizer step `step` (0-based). */
export function learningRate(s: LrSchedule, step: number): number {
  const warm = s.warmupSteps ?? 0;
  if (step < warm) return (s.lr * step) / Math.max(1, warm);
  switch (s.kind) {
    case 'constant':
      return s.lr;
    case 'linear':
      return s.lr * Math.max(0, (s.totalSteps - step) / Math.max(1, s.totalSteps - warm));
    case 'cosine': {
      const progress = Math.min(1, (step - warm) / Math.max(1, s.totalSteps - warm));
      const floor = s.minLrRatio ?? 0;
      return s.lr * (floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * progress)));
    }
  }
}
