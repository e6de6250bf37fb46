// When the mixture is re-decided (METHOD §4): the presets scaled to the run length, a fixed
// interval, or an explicit list; the horizon H_t to the next update and the probe length
// c_t = min(H_t, c_max).
import type { PlannedUpdate } from '../../shared/mixture';
import type { ScheduleConfig, SchedulePreset } from '../../shared/run-config';

/**
 * How many halvings of the run each preset's doubling tail has. For 2,048 steps they give exactly
 * METHOD §4's lists: none = 0, 64 … 1024; light = 0, 8 … 1024; dense = 0, 2 … 1024.
 */
const PRESET_HALVINGS: Record<SchedulePreset, number> = { none: 5, light: 8, dense: 10 };

/**
 * A preset scaled to a run of `totalSteps` [ours, following "a doubling tail ending at half the
 * run"]: 0 and round(T / 2^k) for k = 1 … K, dropping repeats and anything below 1 or at/after T.
 * Short runs therefore have fewer updates: dense and light coincide once T/2^K rounds below 1.
 */
export function presetSteps(preset: SchedulePreset, totalSteps: number): number[] {
  const steps = new Set<number>([0]);
  for (let k = 1; k <= PRESET_HALVINGS[preset]; k++) {
    const s = Math.round(totalSteps / 2 ** k);
    if (s >= 1 && s < totalSteps) steps.add(s);
  }
  return [...steps].sort((a, b) => a - b);
}

/** The sorted update steps U of a schedule, all in [0, totalSteps), starting at 0. */
export function updateSteps(schedule: ScheduleConfig, totalSteps: number): number[] {
  switch (schedule.kind) {
    case 'preset':
      return presetSteps(schedule.preset, totalSteps);
    case 'interval': {
      const out: number[] = [];
      for (let s = 0; s < totalSteps; s += schedule.every) out.push(s);
      return out;
    }
    case 'list': {
      const sorted = [...new Set(schedule.steps)].filter((s) => s < totalSteps).sort((a, b) => a - b);
      return sorted[0] === 0 ? sorted : [0, ...sorted];
    }
  }
}

export type { PlannedUpdate } from '../../shared/mixture';

export function probeLength(horizon: number, probeCap: number): number {
  return Math.min(horizon, probeCap);
}

/** The update after `step`, or the end of the run. */
export function nextUpdateAfter(updates: readonly number[], step: number, totalSteps: number): number {
  for (const u of updates) if (u > step) return u;
  return totalSteps;
}

export function planUpdates(updates: readonly number[], totalSteps: number, probeCap: number): PlannedUpdate[] {
  return updates.map((step) => {
    const horizon = nextUpdateAfter(updates, step, totalSteps) - step;
    return { step, horizon, probeSteps: probeLength(horizon, probeCap) };
  });
}

/** Regular evaluation steps: every E steps and the last step (step 0 is the reference evaluation). */
export function regularEvalSteps(interval: number, totalSteps: number): number[] {
  const out: number[] = [];
  for (let s = interval; s < totalSteps; s += interval) out.push(s);
  out.push(totalSteps);
  return out;
}
