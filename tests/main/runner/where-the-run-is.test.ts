// The controller's options of METHOD §10 on the SyntheticTrainer test double: directional probes
// around the mixture in force (against the paper's single-source probes, on a problem with known
// convex interference), the noise-aware margin without the anchor-loss term, online calibration
// and the record of predicted against measured change.
import { beforeAll, describe, expect, it } from 'vitest';
import { fitCalibration } from '../../../src/main/mixture/calibration';
import { weightedMeanAndStdError } from '../../../src/main/mixture/slopes';
import { createMixtureSolver, type DefaultMixtureSolver } from '../../../src/main/mixture/solver';
import type { RunEvent } from '../../../src/main/runner/events';
import { runExperiment } from '../../../src/main/runner/experiment';
import { convexConfig, convexTrainer, switchingConfig, switchingTrainer } from './scenarios';
import { SyntheticTrainer, syntheticOptionsFrom, type SyntheticScenario } from './synthetic-trainer';

let solver: DefaultMixtureSolver;
beforeAll(async () => {
  solver = await createMixtureSolver();
});

const SEEDS = [0, 1, 2];
const DIRECTIONAL = { localSlopes: { enabled: true, epsilon: 0.5 }, smoothing: { kind: 'trust-region' as const, radius: 0.5 } };

describe('slopes where the run is', () => {
  it('the scenario has a feasible mixture that trains the target: about a fifth of A', async () => {
    for (const seed of SEEDS) {
      const config = convexConfig({ seed, strategy: { kind: 'fixed-manual', weights: { A: 0.2, R: 0.8 } } });
      const r = await runExperiment(config, convexTrainer(config), solver);
      expect(r.feasible).toBe(true);
      expect(r.test.targetPplReduction).toBeGreaterThan(0.3);
    }
  });

  it('directional probes find feasible mixtures where single-source probes find none', async () => {
    let paperFeasible = 0;
    for (const seed of SEEDS) {
      const paperConfig = convexConfig({ seed });
      const paper = await runExperiment(paperConfig, convexTrainer(paperConfig), solver);
      // Every corner raises c2, so the single-source linear model has no feasible mixture at step 0
      // and falls back to the least-violating one, all R.
      expect(paper.history.decisions[0]!.status).toBe('infeasible');
      expect(paper.history.decisions[0]!.weights[1]).toBeGreaterThan(0.99);
      if (paper.feasible) paperFeasible++;

      const config = convexConfig({ seed, beyondPaper: DIRECTIONAL });
      const trainer = convexTrainer(config);
      const r = await runExperiment(config, trainer, solver);
      expect(r.feasible).toBe(true);
      expect(r.test.targetPplReduction).toBeGreaterThan(0.3);
      expect(r.history.decisions.some((d) => d.status === 'feasible')).toBe(true);
      // It probed (1 − ε)·w + ε·e_j around the mixture in force, from the first decision on.
      expect(trainer.probeMixtures[0]).toEqual([0.75, 0.25]);
      expect(trainer.probeMixtures[1]).toEqual([0.25, 0.75]);
    }
    expect(paperFeasible).toBeLessThanOrEqual(1);
  });

  it('keeps every directional decision inside the trust region, the first one included', async () => {
    const config = convexConfig({ beyondPaper: { ...DIRECTIONAL, smoothing: { kind: 'trust-region', radius: 0.2 } } });
    const r = await runExperiment(config, convexTrainer(config), solver);
    let previous = [0.5, 0.5];
    for (const d of r.history.decisions) {
      expect(Math.abs(d.weights[0]! - previous[0]!) + Math.abs(d.weights[1]! - previous[1]!)).toBeLessThanOrEqual(0.2 + 1e-7);
      previous = d.weights;
    }
  });
});

describe('the noise-aware margin', () => {
  it('solves step 0 when every source raises a constraint within its tolerance, however noisy the anchor', async () => {
    // Both sources raise c a little (A pulls z to 1, R to −1 weakly); a 5% tolerance leaves room.
    // Its evaluation batches differ a lot in a coordinate nothing trains (w, curvature 100), so k
    // standard errors of the anchor loss exceed the whole tolerance: the old margin made this step
    // infeasible. The anchor shares its batches with the reference, so it carries no noise term.
    const scenario: SyntheticScenario = {
      theta0: [0, 0, 0],
      sources: [
        { id: 'A', optimum: [1, 1, 0], curvature: [1, 1, 0] },
        { id: 'R', optimum: [0, -1, 0], curvature: [0, 0.25, 0] },
      ],
      domains: [
        { id: 'target', base: 1, optimum: [1, 0, 0], curvature: [1, 0, 0] },
        { id: 'c', base: 1, optimum: [0, 0, 0], curvature: [0, 1, 100] },
      ],
      gradientNoise: 0.3,
      batchSpread: 0.05,
    };
    const config = convexConfig({
      sources: [{ id: 'A', dataset: 'A' }, { id: 'R', dataset: 'R' }],
      domains: [
        { id: 'target', dataset: 'target-data', role: 'target', source: 'A' },
        { id: 'c', dataset: 'c-bench', role: 'constraint', reference: { kind: 'relative', tolerance: 0.05 } },
      ],
      beyondPaper: { noiseAwareMargin: { enabled: true, k: 2 } },
    });
    const trainer = new SyntheticTrainer(scenario, syntheticOptionsFrom(config));
    const [, c] = await trainer.evaluate('regular');
    expect(2 * weightedMeanAndStdError(c!.batchLosses, c!.batchTokens).stdError).toBeGreaterThan(0.05 * c!.loss);

    const r = await runExperiment(config, trainer, solver);
    const first = r.history.decisions[0]!;
    expect(first.slopes![1]!.every((x) => x > 0)).toBe(true);
    expect(first.status).toBe('feasible');
    expect(first.predicted![1]).toBeLessThanOrEqual(r.references.references[1]!);
  });
});

describe('online calibration', () => {
  it('measures each decision at the end of its horizon and scales later slopes by the fit of those before', async () => {
    const config = switchingConfig({ beyondPaper: { calibration: { enabled: true, prior: 1 } } });
    const events: RunEvent[] = [];
    const r = await runExperiment(config, switchingTrainer(config), solver, { onEvent: (e) => events.push(e) });
    const outcomes = r.history.outcomes!;
    const decisions = r.history.decisions;
    // Every decision is measured, the last one at the end of the run.
    expect(outcomes.map((o) => o.step)).toEqual(decisions.map((d) => d.step));
    outcomes.forEach((o, k) => {
      expect(o.measuredAt).toBe(decisions[k]!.step + decisions[k]!.horizon);
      expect(o.predicted).toEqual(decisions[k]!.predictedChange);
    });
    expect(events.filter((e) => e.type === 'outcome').map((e) => (e as { record: unknown }).record)).toEqual(outcomes);
    decisions.forEach((d, k) => {
      const fit = fitCalibration(outcomes.slice(0, k), config.domains.length);
      expect(d.calibration!.scale).toEqual(fit.scale);
      // The calibrated prediction is the raw one scaled per domain.
      outcomes[k]!.calibrated.forEach((c, i) => expect(c).toBeCloseTo(fit.scale[i]! * outcomes[k]!.predicted[i]!, 12));
    });
    expect(decisions.at(-1)!.calibration!.points.every((p) => p === decisions.length - 1)).toBe(true);
    // Linear extrapolation of short probes over long horizons misses: the fit moves off 1.
    expect(decisions.at(-1)!.calibration!.scale.some((b) => Math.abs(b - 1) > 0.02)).toBe(true);
  });

  it('records outcomes whether or not calibration is on, and none for fixed mixtures', async () => {
    const paper = await runExperiment(switchingConfig(), switchingTrainer(switchingConfig()), solver);
    expect(paper.history.outcomes!.length).toBe(paper.history.decisions.length);
    expect(paper.history.decisions.every((d) => d.calibration === null)).toBe(true);
    const fixedConfig = switchingConfig({ strategy: { kind: 'fixed-uniform', targetMass: 0.5 } });
    const fixed = await runExperiment(fixedConfig, switchingTrainer(fixedConfig), solver);
    expect(fixed.history.outcomes).toEqual([]);
  });
});
