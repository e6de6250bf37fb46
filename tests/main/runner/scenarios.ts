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
