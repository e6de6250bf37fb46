// experiments.*: defaults from the bundled model and corpora, validation with every problem on its
// field (schema, cross-field, and the core's own checks of model and datasets), the plan, and
// JSON/YAML save and load.
import { describe, expect, it } from 'vitest';
import type { RunConfig } from '../../../src/shared/run-config';
import type { ConfigDefaults, ConfigPlan, ConfigValidation, ParsedConfig } from '../../../src/shared/services/experiments';
import { testCore } from './helpers';

describe('experiments service', () => {
  const core = testCore({ model: 'tiny' });

  it('starts from a valid 3-source / 4-domain configuration on the bundled model and corpora', async () => {
    const d = await core.call<ConfigDefaults>('experiments.defaults');
    expect(d.config.model.path).toBe('bundled:tiny');
    expect(d.config.sources.map((s) => s.dataset)).toEqual(['bundled:code', 'bundled:email', 'bundled:licenses']);
    expect(d.config.domains.map((x) => [x.id, x.role])).toEqual([['code', 'target'], ['email', 'constraint'], ['licenses', 'constraint'], ['dictionary', 'monitor']]);
    expect(d.config.training.steps).toBe(256);
    expect(d.notes.join(' ')).toMatch(/sized for tiny/);
    const v = await core.call<ConfigValidation>('experiments.validate', { config: d.config });
    expect(v).toMatchObject({ ok: true, problems: [] });
  });

  it('reports schema and cross-field problems on their fields', async () => {
    const { config } = await core.call<ConfigDefaults>('experiments.defaults');
    const bad = structuredClone(config) as RunConfig;
    (bad.training as { steps: number }).steps = 0;
    bad.domains[3]!.reference = { kind: 'relative', tolerance: 0.1 };
    const v = await core.call<ConfigValidation>('experiments.validate', { config: bad });
    expect(v.ok).toBe(false);
    expect(v.config).toBeNull();
    expect(v.problems[0]).toMatchObject({ path: ['training', 'steps'], field: 'training.steps', severity: 'error' });
    expect(v.problems[0]!.message).toMatch(/^training\.steps must be at least 1/);
    const cross = structuredClone(config) as RunConfig;
    cross.domains[3]!.reference = { kind: 'relative', tolerance: 0.1 };
    const v2 = await core.call<ConfigValidation>('experiments.validate', { config: cross });
    expect(v2.problems.map((p) => p.field)).toEqual(['domains[3].reference']);
    expect(v2.problems[0]!.message).toMatch(/only on a constraint domain/);
  });

  it('checks what only the core knows: the model and each dataset reference', async () => {
    const { config } = await core.call<ConfigDefaults>('experiments.defaults');
    const c = structuredClone(config) as RunConfig;
    c.model.path = 'bundled:missing';
    c.sources[1]!.dataset = 'bundled:nope';
    c.domains[0]!.dataset = 'no-such-dataset';
    const v = await core.call<ConfigValidation>('experiments.validate', { config: c });
    expect(v.ok).toBe(false);
    expect(v.config).not.toBeNull();
    expect(v.problems.map((p) => p.field)).toEqual(['model.path', 'sources[1].dataset', 'domains[0].dataset']);
    expect(v.problems[0]!.message).toMatch(/not a bundled model \(bundled: bundled:tiny\)/);
    expect(v.problems[2]!.message).toMatch(/neither an imported dataset nor a file/);
  });

  it('plans the schedule and cost of the configuration', async () => {
    const { config } = await core.call<ConfigDefaults>('experiments.defaults');
    const plan = await core.call<ConfigPlan>('experiments.plan', { config });
    expect(plan.totalSteps).toBe(256);
    expect(plan.updates.map((u) => u.step)).toEqual([0, 8, 16, 32, 64, 128]);
    expect(plan.updates.every((u) => u.probeSteps === Math.min(u.horizon, 16))).toBe(true);
    expect(plan.evalSteps.at(-1)).toBe(256);
    expect(plan.plannedCostMultiple).toBeGreaterThan(1);
    expect(plan.suiteLabels).toEqual(['dynamics', ...[0, 0.2, 0.5, 0.8, 1].map((m) => `uniform m=${m}`), ...[0, 0.2, 0.5, 0.8, 1].map((m) => `proportional m=${m}`)]);
    const fixed = await core.call<ConfigPlan>('experiments.plan', { config: { ...config, strategy: { kind: 'fixed-uniform', targetMass: 0.5 } } });
    expect(fixed.updates).toEqual([{ step: 0, horizon: 256, probeSteps: 0 }]);
    expect(fixed.plannedCostMultiple).toBeCloseTo(1, 10);
    expect((await core.fail('experiments.plan', { config: { nonsense: true } })).name).toBe('InvalidInput');
  });

  it('saves and loads a configuration as YAML and JSON, and reports syntax errors with their line', async () => {
    const { config } = await core.call<ConfigDefaults>('experiments.defaults');
    for (const format of ['yaml', 'json'] as const) {
      const saved = await core.call<{ text: string; fileName: string }>('experiments.serialize', { config, format });
      expect(saved.fileName).toBe(`new-experiment.${format}`);
      const loaded = await core.call<ParsedConfig>('experiments.parse', { text: saved.text, format });
      expect(loaded.ok).toBe(true);
      expect(loaded.config).toEqual(config);
    }
    const broken = await core.call<ParsedConfig>('experiments.parse', { text: 'name: x\nsources:\n  - id: a\n   dataset: b\n', format: 'yaml' });
    expect(broken.ok).toBe(false);
    expect(broken.raw).toBeNull();
    expect(broken.problems[0]!.message).toMatch(/^line 4:\d+: not valid YAML/);
    const json = await core.call<ParsedConfig>('experiments.parse', { text: '{\n  "name": "x",\n  "seed": ?\n}', format: 'json' });
    expect(json.problems[0]!.message).toMatch(/^line 3:\d+: not valid JSON/);
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdefghi'.split('').map((c) => `${c}: &${c} [${Array(9).fill(`*${String.fromCharCode(c.charCodeAt(0) - 1)}`).join(', ')}]`)].join('\n');
    const refused = await core.call<ParsedConfig>('experiments.parse', { text: bomb, format: 'yaml' });
    expect(refused.problems[0]!.message).toMatch(/^not usable YAML \(it expands its aliases \(\*name\) more than 100 times, as an "alias bomb" does/);
    const invalid = await core.call<ParsedConfig>('experiments.parse', { text: 'name: x\n', format: 'yaml' });
    expect(invalid).toMatchObject({ ok: false, raw: { name: 'x' } });
    expect(invalid.problems.map((p) => p.field)).toContain('model');
    expect((await core.fail('experiments.serialize', { config: { name: 'x' }, format: 'yaml' })).message).toMatch(/cannot be saved until it is valid/);
  });
});
