// Synthetic scenarios for the experiment-loop tests: a run config and the SyntheticTrainer dynamics
// it drives, with sources whose effects are known by construction.
import { parseRunConfig, type RunConfig, type RunConfigInput } from '../../../src/shared/run-config';
import { SyntheticTrainer, syntheticOptionsFrom, type SyntheticScenario } from './synthetic-trainer';

/**
 * Coordinates (x, y, z). The target wants x → 1. Constraint c1 wants y near 0 and starts at
 * y = −0.3, so it holds while |y| ≤ 0.3; constraint c2 holds while |z| ≤ 0.2.
 * - fast: pulls x quickly but only to 0.6, and drags y toward 1 (c1 forgets);
 * - slow: pulls x all the way to 1, slowly, touching nothing else;
 * - repair: pulls y back to −0.3 (c1's own data), nudges x down a little;
 * - aux: harmful auxiliary corpus: pulls z to 1 (breaks c2) and x to 0.
 * The best schedule uses fast early (while c1 has slack) and slow later; no fixed mixture can.
 */
export const switchingScenario: SyntheticScenario = {
  theta0: [0, -0.3, 0.2],
  sources: [
    { id: 'fast', optimum: [0.6, 1, 0], curvature: [1, 0.3, 0.2] },
    { id: 'slow', optimum: [1, 0, 0], curvature: [0.03, 0, 0] },
    { id: 'repair', optimum: [0.3, -0.3, 0], curvature: [0.05, 1, 0] },
    { id: 'aux', optimum: [0, 0, 1], curvature: [0.2, 0, 1] },
  ],
  domains: [
    { id: 'target', base: 1, optimum: [1, 0, 0], curvature: [1, 0, 0] },
    { id: 'c1', base: 1, optimum: [0, 0, 0], curvature: [0, 1, 0] },
    { id: 'c2', base: 1, optimum: [0, 0, 0], curvature: [0, 0, 1] },
    { id: 'monitor', base: 1, optimum: [0.5, 0.5, 0], curvature: [0.2, 0.2, 0] },
  ],
  gradientNoise: 0.3,
  batchSpread: 0.05,
};

/** Every option beyond the paper off, as config input: options a test names are set on top. */
export const PAPER_EXACT: NonNullable<RunConfigInput['beyondPaper']> = {
  noiseAwareMargin: { enabled: false },
  calibration: { enabled: false },
  progressFallback: { enabled: false },
  smoothing: { kind: 'none' },
  localSlopes: { enabled: false },
  backtracking: { enabled: false },
};

/** The switching scenario's run config, with the paper-exact controller unless `overrides` set options. */
export function switchingConfig(overrides: Partial<RunConfigInput> = {}): RunConfig {
  return parseRunConfig({
    name: 'synthetic switching',
    model: { path: 'synthetic' },
    sources: switchingScenario.sources.map((s) => ({ id: s.id, dataset: s.id })),
    domains: [
      { id: 'target', dataset: 'target-data', role: 'target', source: 'slow' },
      { id: 'c1', dataset: 'repair', role: 'constraint' },
      { id: 'c2', dataset: 'c2-bench', role: 'constraint' },
      { id: 'monitor', dataset: 'monitor-bench', role: 'monitor' },
    ],
    training: { steps: 256, batchSize: 8, learningRate: 0.05 },
    evaluation: { interval: 32, regularBatches: 20, probeBatches: 10, testBatches: 20 },
    ...overrides,
    beyondPaper: { ...PAPER_EXACT, ...overrides.beyondPaper },
  });
}

export function switchingTrainer(config: RunConfig): SyntheticTrainer {
  return new SyntheticTrainer(switchingScenario, syntheticOptionsFrom(config));
}

/**
 * Convex interference, as the bundled model shows it: coordinates (x, y, z); the target wants x → 1,
 * constraint c1 wants y near 0 (it starts at 0.2), c2 wants z near 0 (it starts there). Both within
 * 1% of their base loss.
 * - A: the target's data: pulls x to 1 and drags y and z toward 1 (both constraints forget);
 * - R: a regularizer: pulls y back to 0 and z, more weakly, toward −1.
 * Alone, each source raises c2 (A fast, R slowly): the single-source slopes say every mixture breaks
 * c2. Mixed, their pulls on z cancel near w_A = 0.2 (where y settles at 0.2 too), so a mixture with
 * about a fifth of A keeps both constraints while training the target — a point only slopes
 * measured around the mixture in force can find.
 */
export const convexScenario: SyntheticScenario = {
  theta0: [0, 0.2, 0],
  sources: [
    { id: 'A', optimum: [1, 1, 1], curvature: [1, 1, 1] },
    { id: 'R', optimum: [0, 0, -1], curvature: [0, 1, 0.25] },
  ],
  domains: [
    { id: 'target', base: 1, optimum: [1, 0, 0], curvature: [1, 0, 0] },
    { id: 'c1', base: 1, optimum: [0, 0, 0], curvature: [0, 1, 0] },
    { id: 'c2', base: 1, optimum: [0, 0, 0], curvature: [0, 0, 1] },
  ],
  gradientNoise: 0.3,
  batchSpread: 0.05,
};

/** The convex scenario's run config, with the paper-exact controller unless `overrides` set options. */
export function convexConfig(overrides: Partial<RunConfigInput> = {}): RunConfig {
  return parseRunConfig({
    name: 'synthetic convex interference',
    model: { path: 'synthetic' },
    sources: convexScenario.sources.map((s) => ({ id: s.id, dataset: s.id })),
    domains: [
      { id: 'target', dataset: 'target-data', role: 'target', source: 'A' },
      { id: 'c1', dataset: 'c1-bench', role: 'constraint', reference: { kind: 'relative', tolerance: 0.01 } },
      { id: 'c2', dataset: 'c2-bench', role: 'constraint', reference: { kind: 'relative', tolerance: 0.01 } },
    ],
    training: { steps: 256, batchSize: 8, learningRate: 0.05 },
    evaluation: { interval: 32, regularBatches: 20, probeBatches: 10, testBatches: 20 },
    dynamics: { probeCap: 16 },
    ...overrides,
    beyondPaper: { ...PAPER_EXACT, ...overrides.beyondPaper },
  });
}

export function convexTrainer(config: RunConfig): SyntheticTrainer {
  return new SyntheticTrainer(convexScenario, syntheticOptionsFrom(config));
}
