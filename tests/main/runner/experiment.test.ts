// The experiment loop's contract, on the SyntheticTrainer test double: events, references, fixed
// strategies, gradient alignment, cost accounting, cancellation and exact resume.
import { beforeAll, describe, expect, it } from 'vitest';
import { costReport, plannedCounters } from '../../../src/main/mixture/cost';
import { createMixtureSolver, type DefaultMixtureSolver } from '../../../src/main/mixture/solver';
import { referencesFor, RunCancelledError, runExperiment } from '../../../src/main/runner/experiment';
import type { RunEvent } from '../../../src/main/runner/events';
import type { LoopState } from '../../../src/main/runner/state';
import { switchingConfig, switchingTrainer } from './scenarios';

let solver: DefaultMixtureSolver;
beforeAll(async () => {
  solver = await createMixtureSolver();
});

/** A clock that advances 5 ms per reading, so timings and rates are deterministic. */
function fakeClock() {
  let t = 0;
  return () => (t += 5);
}

describe('runExperiment', () => {
  it('emits plain-data events: plan, references, decisions, progress in every phase, evaluations, report', async () => {
    const config = switchingConfig();
    const events: RunEvent[] = [];
    const report = await runExperiment(config, switchingTrainer(config), solver, { onEvent: (e) => events.push(e), clock: fakeClock() });
    expect(JSON.parse(JSON.stringify(events))).toEqual(events);
    expect(events[0]?.type).toBe('started');
    expect(events.at(-1)).toEqual({ type: 'finished', report });
    const started = events[0] as Extract<RunEvent, { type: 'started' }>;
    expect(started.plan.updates.map((u) => u.step)).toEqual([0, 8, 16, 32, 64, 128]);
    expect(started.plan.evalSteps).toEqual([32, 64, 96, 128, 160, 192, 224, 256]);
    expect(started.plan.plannedCostMultiple).toBeCloseTo(report.cost.multiple, 12);
    const progress = events.filter((e): e is Extract<RunEvent, { type: 'progress' }> => e.type === 'progress');
    expect(new Set(progress.map((p) => p.phase))).toEqual(new Set(['training', 'probing', 'evaluating']));
    expect(progress.at(-1)?.tokensPerSecond).toBeGreaterThan(0);
    expect(progress.some((p) => p.etaSeconds !== null && p.etaSeconds > 0)).toBe(true);
    expect(progress.every((p, k) => k === 0 || p.elapsedSeconds >= (progress[k - 1]?.elapsedSeconds ?? 0))).toBe(true);
    const decisions = events.filter((e) => e.type === 'decision');
    expect(decisions).toHaveLength(6);
    const d = (decisions[0] as Extract<RunEvent, { type: 'decision' }>).decision;
    expect(d.slopes).toHaveLength(4);
    expect(d.slopes?.[0]).toHaveLength(4);
    expect(d.status).toBe('feasible');
    expect(events.filter((e) => e.type === 'eval')).toHaveLength(9);
    expect(events.filter((e) => e.type === 'checkpoint')).toHaveLength(8);
    // Wall time is booked per category.
    for (const c of ['training', 'probeTraining', 'probeEval', 'regularEval', 'testEval', 'solving', 'checkpointing'] as const) {
      expect(report.cost.wallSeconds[c], c).toBeGreaterThan(0);
    }
  });

  it('accounts cost in forward-equivalents exactly as planned (METHOD §7)', async () => {
    const config = switchingConfig();
    const report = await runExperiment(config, switchingTrainer(config), solver);
    const fe = report.cost.forwardEquivalents;
    // Fixed run: 256 steps × 3 + 9 regular evaluations × 4 domains × 20 batches.
    expect(report.cost.fixedRun).toBe(256 * 3 + 9 * 4 * 20);
    // Probes: c = 8, 8, 16, 32, 64, 128 on 4 sources; 6 updates × 4 probes × 4 domains × 10 batches;
    // two anchors (steps 8 and 16) of 4 × 10 batches.
    expect(fe.probeTraining).toBe(4 * 256 * 3);
    expect(fe.probeEval).toBe(6 * 4 * 4 * 10);
    expect(fe.anchorEval).toBe(2 * 4 * 10);
    expect(report.cost.multiple).toBeCloseTo((1488 + 3072 + 960 + 80) / 1488, 12);
    expect(report.cost.forwardEquivalents).toEqual(costReport(config, 4, plannedCounters(config, 4, 4), {}).forwardEquivalents);
  });

  it('applies reference overrides: absolute, or relative to the base loss', () => {
    const config = switchingConfig({
      domains: [
        { id: 'target', dataset: 'x', role: 'target' },
        { id: 'c1', dataset: 'repair', role: 'constraint', reference: { kind: 'absolute', loss: 1.5 } },
        { id: 'c2', dataset: 'c2', role: 'constraint', reference: { kind: 'relative', tolerance: 0.02 } },
        { id: 'monitor', dataset: 'm', role: 'monitor' },
      ],
    });
    expect(referencesFor(config, [2, 1, 1, 1])).toEqual([null, 1.5, 1.02, null]);
  });

  it('runs a fixed baseline with one decision and no probing', async () => {
    const config = switchingConfig({ strategy: { kind: 'fixed-uniform', targetMass: 0.5 } });
    const trainer = switchingTrainer(config);
    const report = await runExperiment(config, trainer, solver);
    expect(report.history.decisions).toHaveLength(1);
    expect(report.history.decisions[0]?.weights).toEqual([0.5 / 3, 0.5, 0.5 / 3, 0.5 / 3]);
    expect(trainer.calls.train.probe).toBe(0);
    expect(trainer.calls.evaluate.probe).toBe(0);
    expect(report.cost.multiple).toBe(1);
    expect(report.label).toBe('uniform m=0.5');
  });

  it('runs gradient alignment: S_ij = −η⟨g_i, d_j⟩, no probe training', async () => {
    const config = switchingConfig({ strategy: { kind: 'gradient-alignment' } });
    const trainer = switchingTrainer(config);
    const report = await runExperiment(config, trainer, solver);
    expect(trainer.calls.train.probe).toBe(0);
    const twin = switchingTrainer(config);
    const { gradients } = await twin.evalGradients();
    const directions = await twin.updateDirections();
    const first = report.history.decisions[0]!;
    gradients.forEach((g, i) =>
      directions.forEach((d, j) => {
        const expected = -config.training.learningRate * g.reduce((s, gk, k) => s + gk * (d.direction[k] as number), 0);
        expect((first.slopes as number[][])[i]?.[j]).toBeCloseTo(expected, 12);
      }),
    );
    expect(report.history.decisions).toHaveLength(6);
    expect(report.cost.forwardEquivalents.gradients).toBe(6 * (4 * 10 + 4) * 3);
  });

  it('stops at the next chunk when cancelled', async () => {
    const config = switchingConfig();
    const abort = new AbortController();
    const run = runExperiment(config, switchingTrainer(config), solver, {
      signal: abort.signal,
      onEvent: (e) => {
        if (e.type === 'train' && e.record.step >= 40) abort.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(RunCancelledError);
    await expect(run).rejects.toThrow('the run was cancelled at step 48');
  });

  it('resumes exactly from the state handed out at a checkpoint', async () => {
    const config = switchingConfig();
    const whole = await runExperiment(config, switchingTrainer(config), solver);

    const first = switchingTrainer(config);
    let saved: LoopState | null = null;
    const abort = new AbortController();
    await expect(
      runExperiment(config, first, solver, {
        signal: abort.signal,
        onState: (s) => {
          if (s.step === 64) {
            saved = JSON.parse(JSON.stringify(s)) as LoopState;
            abort.abort();
          }
        },
      }),
    ).rejects.toBeInstanceOf(RunCancelledError);
    expect(saved).not.toBeNull();
    // A new process: a fresh trainer that can read the first one's checkpoints.
    const second = switchingTrainer(config);
    second.adoptCheckpoints(first);
    const resumed = await runExperiment(config, second, solver, { resume: saved! });
    expect(resumed.test).toEqual(whole.test);
    expect(resumed.history).toEqual(whole.history);
    expect(resumed.cost.forwardEquivalents).toEqual(whole.cost.forwardEquivalents);
  });
});
