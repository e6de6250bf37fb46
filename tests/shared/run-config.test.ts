// The run configuration schema: defaults, cross-field checks, and messages that name the field.
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/shared/errors';
import { checkRunConfig, CONTROLLER_OPTIONS, paperExactOptions, parseRunConfig, withControllerOptions, type RunConfigInput } from '../../src/shared/run-config';

const minimal: RunConfigInput = {
  model: { path: 'models/tiny' },
  sources: [
    { id: 'code', dataset: 'code-corpus' },
    { id: 'web', dataset: 'web-corpus' },
  ],
  domains: [
    { id: 'code-eval', dataset: 'code-corpus', role: 'target' },
    { id: 'web-eval', dataset: 'web-corpus', role: 'constraint' },
    { id: 'math', dataset: 'math-bench', role: 'monitor' },
  ],
};

function errorOf(input: unknown): string {
  try {
    parseRunConfig(input, 'run.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidInputError);
    return (err as Error).message;
  }
  throw new Error('expected the config to be rejected');
}

/** A deep copy of the minimal config with `patch` applied at a dotted path. */
function withField(path: string, value: unknown): unknown {
  const copy = structuredClone(minimal) as Record<string, unknown>;
  const keys = path.split('.');
  let at: Record<string, unknown> = copy;
  for (const k of keys.slice(0, -1)) {
    at[k] ??= {};
    at = at[k] as Record<string, unknown>;
  }
  at[keys[keys.length - 1] as string] = value;
  return copy;
}

describe('run configuration', () => {
  it('fills the paper defaults for training and the product defaults for the controller', () => {
    const c = parseRunConfig(minimal);
    expect(c.training).toMatchObject({ steps: 2048, batchSize: 8, seqLength: 512, learningRate: 1e-4, lrSchedule: 'constant', warmupSteps: 0 });
    expect(c.evaluation).toMatchObject({ interval: 64, regularBatches: 200, probeBatches: 50 });
    expect(c.dynamics).toEqual({ schedule: { kind: 'preset', preset: 'none' }, probeCap: 128, solver: 'lp', margin: 0 });
    expect(c.strategy).toEqual({ kind: 'dynamics' });
    expect(c.model.adapter).toEqual({ kind: 'lora', rank: 8, alpha: 16, dropout: 0, targets: ['q_proj', 'v_proj'] });
    // The product default (METHOD §10, chosen by the scenario benchmark): slopes where the run is,
    // calibrated, with chance constraints and a fallback that keeps the targets moving.
    expect(c.beyondPaper).toEqual({
      noiseAwareMargin: { enabled: true, k: 1 },
      calibration: { enabled: true, prior: 1 },
      progressFallback: { enabled: true, standardErrors: 1 },
      smoothing: { kind: 'trust-region', radius: 0.5 },
      localSlopes: { enabled: true, epsilon: 0.5 },
      backtracking: { enabled: false, maxBacktracks: 3 },
    });
    const paper = paperExactOptions(c.beyondPaper);
    expect([paper.noiseAwareMargin.enabled, paper.calibration.enabled, paper.progressFallback.enabled, paper.localSlopes.enabled, paper.backtracking.enabled]).toEqual([false, false, false, false, false]);
    expect(paper.smoothing).toEqual({ kind: 'none' });
    expect(c).toMatchObject({ seed: 0, device: 'auto', version: 1 });
  });

  it('accepts every strategy, schedule and option form', () => {
    const c = parseRunConfig({
      ...minimal,
      strategy: { kind: 'fixed-manual', weights: { code: 0.25, web: 0.75 } },
      dynamics: { schedule: { kind: 'list', steps: [0, 10, 100] }, solver: 'penalty-grid', margin: 0.01 },
      beyondPaper: { smoothing: { kind: 'ema' }, backtracking: { enabled: true } },
      domains: [...minimal.domains.slice(0, 1), { id: 'web-eval', dataset: 'web', role: 'constraint', reference: { kind: 'relative', tolerance: 0.02 } }],
    });
    expect(c.beyondPaper.smoothing).toEqual({ kind: 'ema', decay: 0.5 });
    expect(c.beyondPaper.backtracking).toEqual({ enabled: true, maxBacktracks: 3 });
    expect(parseRunConfig({ ...minimal, dynamics: { schedule: { kind: 'interval', every: 32 } } }).dynamics.schedule).toEqual({ kind: 'interval', every: 32 });
  });

  it.each([
    ['training.steps', 0, 'training.steps must be at least 1 (got 0)'],
    ['training.steps', 1.5, 'training.steps must be an integer'],
    ['training.learningRate', 'fast', 'training.learningRate must be a number, not "fast"'],
    ['training.lrSchedule', 'step', 'training.lrSchedule must be one of "constant", "linear", "cosine" (got "step")'],
    ['training.stpes', 10, 'training has an unknown field "stpes"'],
    ['dynamics.solver', 'simplex', 'dynamics.solver must be one of "lp", "penalty-grid"'],
    ['dynamics.margin', -1, 'dynamics.margin must be at least 0 (got -1)'],
    ['dynamics.schedule', { kind: 'weekly' }, 'dynamics.schedule.kind must be one of "preset", "interval", "list"'],
    ['dynamics.schedule', { kind: 'list', steps: [5, 10] }, 'dynamics.schedule.steps[0] must be 0'],
    ['dynamics.schedule', { kind: 'list', steps: [0, 10, 10] }, 'dynamics.schedule.steps[2] must be greater than the step before it'],
    ['dynamics.schedule', { kind: 'list', steps: [0, 4096] }, 'dynamics.schedule.steps[1] must be below training.steps (2048)'],
    ['strategy', { kind: 'fixed-uniform' }, 'strategy.targetMass is required (a number)'],
    ['strategy', { kind: 'fixed-uniform', targetMass: 1.5 }, 'strategy.targetMass must be at most 1 (got 1.5)'],
    ['strategy', { kind: 'fixed-manual', weights: { code: 0.5 } }, 'strategy.weights must sum to 1 (they sum to 0.5)'],
    ['strategy', { kind: 'fixed-manual', weights: { code: 0.5, news: 0.5 } }, 'strategy.weights.news names no source'],
    ['evaluation.probeBatches', 500, 'evaluation.probeBatches must not exceed evaluation.regularBatches (200)'],
    ['model.adapter', { kind: 'lora', rank: 0 }, 'model.adapter.rank must be at least 1 (got 0)'],
    ['model.adapter', { kind: 'qlora' }, 'model.adapter.kind must be one of "lora", "full"'],
    ['device', 'tpu', 'device must be one of "auto", "cuda", "cpu" (got "tpu")'],
    ['sources', [], 'sources must be a list of at least 1 item'],
    ['beyondPaper.calibration', { enabled: true, prior: -1 }, 'beyondPaper.calibration.prior must be at least 0 (got -1)'],
  ])('rejects %s = %j with a message naming the field', (path, value, message) => {
    const input = withField(path, value);
    const msg = errorOf(input);
    expect(msg).toContain('invalid run.yaml: ');
    expect(msg).toContain(message);
  });

  it('names problems in sources and domains by index', () => {
    expect(errorOf({ ...minimal, sources: [{ id: 'a b', dataset: 'x' }] })).toContain('sources[0].id must be 1 to 64 letters');
    expect(errorOf({ ...minimal, sources: [minimal.sources[0], minimal.sources[0]] })).toContain('sources[1].id repeats the id of sources[0] ("code")');
    expect(errorOf({ ...minimal, domains: [{ id: 'x', dataset: 'y', role: 'goal' }] })).toContain('domains[0].role must be one of "target", "constraint", "monitor" (got "goal")');
    expect(errorOf({ ...minimal, domains: [{ id: 'x', dataset: 'y', role: 'constraint' }] })).toContain('domains must include at least one domain with role "target"');
    expect(errorOf({ ...minimal, domains: [{ id: 'x', dataset: 'y', role: 'target', reference: { kind: 'absolute', loss: 2 } }] })).toContain(
      'domains[0].reference is allowed only on a constraint domain, and "x" is a target',
    );
    expect(errorOf({ ...minimal, domains: [{ id: 'x', dataset: 'y', role: 'target', source: 'nope' }] })).toContain('domains[0].source names no source ("nope"');
    expect(errorOf({ sources: minimal.sources, domains: minimal.domains })).toContain('model is required (an object)');
    expect(errorOf(42)).toContain('the config must be an object, not 42');
  });

  it('reports several problems in one message, and as a list for forms', () => {
    const bad = { ...minimal, seed: -1, device: 'tpu' };
    expect(errorOf(bad)).toMatch(/seed must be at least 0 \(got -1\); device must be one of/);
    const checked = checkRunConfig(bad);
    expect(checked.ok).toBe(false);
    if (!checked.ok) expect(checked.problems).toHaveLength(2);
  });

  it('runs cross-field checks only once the fields are valid, so one mistake gives one message', () => {
    expect(errorOf({ ...minimal, training: { steps: -3 } })).toBe('invalid run.yaml: training.steps must be at least 1 (got -3)');
  });

  it('turns exactly the named controller options on', () => {
    const bp = parseRunConfig({ ...minimal, beyondPaper: { localSlopes: { epsilon: 0.3 } } }).beyondPaper;
    const some = withControllerOptions(bp, ['directional', 'fallback']);
    expect(some.localSlopes).toEqual({ enabled: true, epsilon: 0.3 });
    expect(some.progressFallback.enabled).toBe(true);
    expect([some.calibration.enabled, some.noiseAwareMargin.enabled, some.backtracking.enabled, some.smoothing.kind]).toEqual([false, false, false, 'none']);
    expect(withControllerOptions(bp, ['trust-region']).smoothing).toEqual({ kind: 'trust-region', radius: 0.5 });
    expect(withControllerOptions(bp, [])).toEqual(paperExactOptions(bp));
    expect(withControllerOptions(bp, [...CONTROLLER_OPTIONS])).toEqual({ ...bp, backtracking: { ...bp.backtracking, enabled: true } });
  });

  it('accepts the product defaults with gradient alignment and the penalty grid (options that do not apply are not used)', () => {
    expect(parseRunConfig({ ...minimal, strategy: { kind: 'gradient-alignment' } }).beyondPaper.localSlopes.enabled).toBe(true);
    expect(parseRunConfig({ ...minimal, dynamics: { solver: 'penalty-grid' } }).beyondPaper.smoothing.kind).toBe('trust-region');
  });
});
