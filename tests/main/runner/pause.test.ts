// Pausing the experiment loop at a safe point (between training chunks, before a decision, after
// a regular checkpoint, right after a backtrack) and resuming from the state it handed out: any
// number of pauses end exactly as the uninterrupted run — the same history, test report, cost and
// time-averaged mixture, bit for bit — on the SyntheticTrainer test double.
import { beforeAll, describe, expect, it } from 'vitest';
import { createMixtureSolver, type DefaultMixtureSolver } from '../../../src/main/mixture/solver';
import { RunPausedError } from '../../../src/main/runner/context';
import type { RunEvent, RunReport } from '../../../src/main/runner/events';
import { runExperiment } from '../../../src/main/runner/experiment';
import type { LoopState } from '../../../src/main/runner/state';
import type { RunConfig } from '../../../src/shared/run-config';
import { switchingConfig, switchingTrainer } from './scenarios';
import type { SyntheticTrainer } from './synthetic-trainer';

let solver: DefaultMixtureSolver;
beforeAll(async () => {
  solver = await createMixtureSolver();
});

/** The report without what differs by design: checkpoint handles (a pause saves extra ones) and wall time. */
function comparable(report: RunReport): unknown {
  return JSON.parse(JSON.stringify({ ...report, cost: { ...report.cost, wallSeconds: null } }, (k, v: unknown) => (k === 'checkpoint' || k === 'lastFeasibleCheckpoint' ? (v as { step: number } | null)?.step ?? null : v)));
}

type Trigger = (e: RunEvent, seen: RunEvent[]) => boolean;

/** Runs to the end, pausing whenever the segment's trigger fires, resuming each time with a fresh trainer. */
async function runWithPauses(config: RunConfig, triggers: Trigger[]): Promise<{ report: RunReport; pauses: number[] }> {
  let previous: SyntheticTrainer | null = null;
  let state: LoopState | undefined;
  const pauses: number[] = [];
  for (let segment = 0; ; segment++) {
    const trainer = switchingTrainer(config);
    if (previous) trainer.adoptCheckpoints(previous);
    previous = trainer;
    const pause = new AbortController();
    const seen: RunEvent[] = [];
    const trigger = triggers[segment];
    try {
      const report = await runExperiment(config, trainer, solver, {
        progressChunkSteps: 4,
        pauseSignal: pause.signal,
        onEvent: (e) => {
          seen.push(e);
          if (trigger?.(e, seen)) pause.abort();
        },
        onState: (s) => (state = s),
        ...(state ? { resume: state } : {}),
      });
      return { report, pauses };
    } catch (err) {
      if (!(err instanceof RunPausedError)) throw err;
      expect(state?.step).toBe(err.step);
      pauses.push(err.step);
    }
  }
}

const nthTrain = (n: number): Trigger => (e, seen) => e.type === 'train' && seen.filter((x) => x.type === 'train').length === n;
const onType = (type: RunEvent['type'], n = 1): Trigger => (e, seen) => e.type === type && seen.filter((x) => x.type === type).length === n;

describe('pause and resume of the experiment loop', () => {
  it('pauses between chunks, before decisions and after checkpoints, and ends exactly as the uninterrupted run', async () => {
    const config = switchingConfig();
    const whole = await runExperiment(config, switchingTrainer(config), solver, { progressChunkSteps: 4 });
    const { report, pauses } = await runWithPauses(config, [
      onType('started'), // before any training: a checkpoint at step 0
      nthTrain(1), // between two chunks of an interval
      nthTrain(3),
      onType('checkpoint'), // at a regular checkpoint (no second checkpoint there)
      onType('decision', 2),
      nthTrain(9),
    ]);
    expect(pauses.length).toBe(6);
    expect(pauses.some((s) => s % 32 !== 0 && s % 8 !== 0)).toBe(true); // one inside an interval
    expect(comparable(report)).toEqual(comparable(whole));
    // Bit for bit, the time average too (segments merge back across a pause).
    expect(report.timeAveragedWeights).toEqual(whole.timeAveragedWeights);
  });

  it('with backtracking: a pause right after a backtrack waits for the next safe point, and the run ends the same', async () => {
    const config = switchingConfig({ seed: 0, dynamics: { probeCap: 1 }, beyondPaper: { backtracking: { enabled: true, maxBacktracks: 2 } } });
    const whole = await runExperiment(config, switchingTrainer(config), solver, { progressChunkSteps: 4 });
    expect(whole.history.backtracks.length).toBeGreaterThanOrEqual(1);
    const first = whole.history.backtracks[0]!;
    const { report, pauses } = await runWithPauses(config, [onType('backtrack'), nthTrain(2), onType('eval', 2)]);
    // The first pause came after the backtrack, past the step it went back to.
    expect(pauses[0]).toBeGreaterThan(first.toStep);
    expect(comparable(report)).toEqual(comparable(whole));
    expect(report.timeAveragedWeights).toEqual(whole.timeAveragedWeights);
  });

  it('hands out a state at the step-0 checkpoint that backtracking saves, so a pause there saves nothing twice', async () => {
    const config = switchingConfig({ seed: 0, dynamics: { probeCap: 1 }, beyondPaper: { backtracking: { enabled: true, maxBacktracks: 2 } } });
    const states: LoopState[] = [];
    const trainer = switchingTrainer(config);
    const pause = new AbortController();
    pause.abort();
    await expect(runExperiment(config, trainer, solver, { pauseSignal: pause.signal, onState: (s) => states.push(s) })).rejects.toThrow(RunPausedError);
    expect(states.map((s) => s.step)).toEqual([0]);
    expect(trainer.calls.save).toBe(1);
  });
});
