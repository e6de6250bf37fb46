// Fixed baselines (METHOD §6) and which sources count as target sources.
import { describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../../src/shared/run-config';
import {
  baselineStrategies,
  fixedManualWeights,
  fixedProportionalWeights,
  fixedStrategyWeights,
  fixedUniformWeights,
  targetSourceIndices,
} from '../../../src/main/mixture/baselines';

const config = parseRunConfig({
  model: { path: 'm' },
  sources: [
    { id: 'code', dataset: 'code', size: 300 },
    { id: 'math', dataset: 'math', size: 100 },
    { id: 'web', dataset: 'web' },
    { id: 'chat', dataset: 'chat' },
  ],
  domains: [
    { id: 'code-eval', dataset: 'code', role: 'target' },
    { id: 'gsm', dataset: 'gsm8k', role: 'target', source: 'math' },
    { id: 'web-eval', dataset: 'web', role: 'constraint' },
  ],
});

function expectWeights(actual: number[], expected: number[]) {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((w, j) => expect(w, `weight ${j}`).toBeCloseTo(expected[j] as number, 14));
}

describe('fixed baselines', () => {
  it('finds target sources by explicit link or shared dataset', () => {
    expect([...targetSourceIndices(config)].sort()).toEqual([0, 1]);
  });

  it('splits m equally (uniform) or by size (proportional) over targets, 1 − m equally over the rest', () => {
    const t = targetSourceIndices(config);
    expectWeights(fixedUniformWeights(4, t, 0.8), [0.4, 0.4, 0.1, 0.1]);
    const p = fixedProportionalWeights(4, t, [300, 100, 1, 1], 0.8);
    expectWeights(p, [0.6, 0.2, 0.1, 0.1]);
    expect(fixedUniformWeights(4, t, 0)).toEqual([0, 0, 0.5, 0.5]);
    expect(fixedUniformWeights(4, t, 1)).toEqual([0.5, 0.5, 0, 0]);
  });

  it('gives an empty group’s mass to the other group', () => {
    expect(fixedUniformWeights(3, new Set(), 0.8)).toEqual([1 / 3, 1 / 3, 1 / 3]);
    expect(fixedUniformWeights(2, new Set([0, 1]), 0.2)).toEqual([0.5, 0.5]);
  });

  it('normalizes manual weights keyed by source id', () => {
    expect(fixedManualWeights(['a', 'b', 'c'], { a: 0.25, c: 0.75 })).toEqual([0.25, 0, 0.75]);
  });

  it('uses measured sizes for proportional when the config has none', () => {
    const proportional = { ...config, strategy: { kind: 'fixed-proportional' as const, targetMass: 0.5 } };
    expectWeights(fixedStrategyWeights(proportional, [300, 100, 5, 5]) as number[], [0.375, 0.125, 0.25, 0.25]);
    const noSizes = { ...proportional, sources: config.sources.map(({ size: _size, ...s }) => s) };
    expect(() => fixedStrategyWeights(noSizes)).toThrow('fixed-proportional needs the size of source "code"');
    expect(fixedStrategyWeights(config)).toBeNull();
  });

  it('has the paper grid of ten runs', () => {
    expect(baselineStrategies()).toHaveLength(10);
    expect(baselineStrategies().map((s) => ('targetMass' in s ? s.targetMass : null))).toEqual([0, 0.2, 0.5, 0.8, 1, 0, 0.2, 0.5, 0.8, 1]);
  });
});
