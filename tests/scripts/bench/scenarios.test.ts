// The scenario benchmark's pure parts: the scenarios are in the paper's style and valid run
// configs; the methods (grid, leave-out, averages, options, the product default) are the configs
// they claim; identical runs share one identity; the results file survives a kill mid-line; and
// the aggregation computes best@1, best@10, the leave-out best and the summary as defined.
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixedStrategyWeights } from '../../../src/main/mixture/baselines';
import { paperExactOptions, runConfigSchema } from '../../../src/shared/run-config';
import { ResultsFile, readResults, resultsFiles, type RunRecord } from '../../../scripts/bench/scenarios/results';
import { DEFAULT_TOLERANCE, ensureAux, FULL_SETTINGS, GENERAL, SCENARIOS, SCRAMBLED, scenarioConfig } from '../../../scripts/bench/scenarios/scenarios';
import { bootstrapMedianInterval, calibrationTable, cellsOf, methodValue, noiseTable, pairedTable, summarize } from '../../../scripts/bench/scenarios/summary';
import { averageRun, dynamicsRuns, gridRuns, leaveOutRuns, OPTIONS, productDefault, runIdentity, withOptions } from '../../../scripts/bench/scenarios/variants';
import { resourcesDir } from '../../../src/main/paths';
import { tempDir } from '../../helpers/temp';

const dir = tempDir('dynamics-bench-scenarios-');

describe('the scenarios', () => {
  it('are at least 8, each with 1–3 targets, 3–7 constraints and a harmful auxiliary source', () => {
    expect(SCENARIOS.length).toBeGreaterThanOrEqual(8);
    expect(new Set(SCENARIOS.map((s) => s.id)).size).toBe(SCENARIOS.length);
    for (const s of SCENARIOS) {
      expect(s.targets.length).toBeGreaterThanOrEqual(1);
      expect(s.targets.length).toBeLessThanOrEqual(3);
      expect(s.constraints.length).toBeGreaterThanOrEqual(3);
      expect(s.constraints.length).toBeLessThanOrEqual(7);
      expect(s.aux.length).toBeGreaterThanOrEqual(1);
      expect(s.harmful.length).toBeGreaterThanOrEqual(1);
      for (const h of s.harmful) expect(s.aux).toContain(h);
      const domains = [...s.targets, ...s.constraints.map((c) => c.domain)];
      for (const a of s.aux) expect(domains).not.toContain(a);
    }
  });

  it('are valid paper-exact run configs of 256 steps on the bundled model, every constraint with a tolerance', () => {
    for (const s of SCENARIOS) {
      const c = scenarioConfig(s, FULL_SETTINGS, 0, dir);
      expect(runConfigSchema.safeParse(c).success).toBe(true);
      expect(c.training.steps).toBe(256);
      expect(c.beyondPaper).toEqual(paperExactOptions(c.beyondPaper));
      for (const d of c.domains) if (d.role === 'constraint') expect(d.reference).toEqual({ kind: 'relative', tolerance: DEFAULT_TOLERANCE });
      expect(c.model.path).toBe('bundled:dynamics-demo-2m');
      expect(c.sources.map((x) => x.id).slice(0, s.targets.length)).toEqual(s.targets);
    }
  });

  it('writes the auxiliary corpora deterministically: scrambled has the words of real text, shuffled; general is real text', () => {
    const a = ensureAux(resourcesDir(), path.join(dir, 'a'));
    const b = ensureAux(resourcesDir(), path.join(dir, 'b'));
    for (const name of [SCRAMBLED, GENERAL]) {
      for (const split of ['train', 'eval', 'test']) {
        const text = readFileSync(path.join(a, name, `${split}.jsonl`), 'utf8');
        expect(text).toBe(readFileSync(path.join(b, name, `${split}.jsonl`), 'utf8'));
      }
    }
    const firstDoc = (file: string) => JSON.parse(readFileSync(file, 'utf8').split('\n')[0]!) as { text: string };
    const shuffled = firstDoc(path.join(a, SCRAMBLED, 'eval.jsonl'));
    const original = firstDoc(path.join(resourcesDir(), 'corpora', 'licenses', 'eval.jsonl'));
    const words = (t: string) => t.split(/\s+/).filter((w) => w.length > 0).sort();
    expect(words(shuffled.text)).toEqual(words(original.text));
    expect(shuffled.text).not.toBe(original.text);
    expect(firstDoc(path.join(a, GENERAL, 'eval.jsonl')).text).toBe(original.text);
  });
});

describe('the methods', () => {
  const spec = SCENARIOS.find((s) => s.id === 'code')!;
  const base = scenarioConfig(spec, FULL_SETTINGS, 1, dir);
  const sizes = base.sources.map((_, j) => 1000 * (j + 1));

  it('the grid is the paper\'s 10 runs; with one target uniform and proportional share identities', () => {
    const grid = gridRuns(base);
    expect(grid).toHaveLength(10);
    const ids = grid.map((g) => runIdentity(g.config, sizes));
    expect(new Set(ids).size).toBe(5);
    expect(ids[2]).toBe(ids[7]); // uniform m=0.5 and proportional m=0.5
  });

  it('leave-out mixtures give nothing to the auxiliary sources', () => {
    const runs = leaveOutRuns(base);
    expect(runs.map((r) => r.method)).toEqual(['leave-out m=0.2', 'leave-out m=0.5', 'leave-out m=0.8']);
    const w = fixedStrategyWeights(runs[1]!.config, sizes)!;
    const ids = base.sources.map((s) => s.id);
    expect(w[ids.indexOf('code')]).toBeCloseTo(0.5, 12);
    for (const aux of spec.aux) expect(w[ids.indexOf(aux)]).toBe(0);
    expect(w.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it('each option changes only its own setting; the default follows the schema\'s defaults', () => {
    const runs = dynamicsRuns(base, { presets: true, penaltyGrid: true, options: OPTIONS, combos: [['chance', 'ema']], default: true });
    expect(runs.map((r) => r.method)).toEqual(['default', 'paper-lp', 'paper-grid', 'paper-light', 'paper-dense', ...OPTIONS, 'chance+ema']);
    const paper = runs[1]!.config;
    expect(paper.beyondPaper.noiseAwareMargin.enabled).toBe(false);
    expect(runs[2]!.config.dynamics.solver).toBe('penalty-grid');
    expect(withOptions(paper, ['chance']).beyondPaper.noiseAwareMargin).toEqual({ enabled: true, k: 1 });
    const directional = withOptions(paper, ['directional']).beyondPaper;
    expect(directional.localSlopes.enabled).toBe(true);
    expect(directional.smoothing.kind).toBe('trust-region');
    expect(withOptions(paper, ['calibration']).beyondPaper.calibration.enabled).toBe(true);
    expect(withOptions(paper, ['fallback']).beyondPaper.progressFallback.enabled).toBe(true);
    expect(withOptions(paper, ['big-probes']).evaluation.probeBatches).toBe(paper.evaluation.regularBatches);
    expect(paper.beyondPaper.noiseAwareMargin.enabled).toBe(false); // not mutated
    const def = runs[0]!.config;
    const schemaDefaults = runConfigSchema.parse({ model: { path: 'm' }, sources: [{ id: 'a', dataset: 'a' }], domains: [{ id: 'a', dataset: 'a', role: 'target' }] });
    expect(def.beyondPaper).toEqual(schemaDefaults.beyondPaper);
    expect(def.dynamics.schedule).toEqual(schemaDefaults.dynamics.schedule);
    expect(def.dynamics.probeCap).toBe(FULL_SETTINGS.probeCap);
    expect(productDefault(paper)).toEqual(def);
    const ids = runs.map((r) => runIdentity(r.config, sizes));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('the average run trains on the given mixture, normalized', () => {
    const avg = averageRun(base, 'paper-none', [0.5, 0.25, 0.25, 0, 0]);
    expect(avg.method).toBe('avg:paper-none');
    expect(fixedStrategyWeights(avg.config, sizes)).toEqual([0.5, 0.25, 0.25, 0, 0]);
  });
});

function record(over: Partial<RunRecord>): RunRecord {
  return {
    v: 1, key: Math.random().toString(36), scenario: 's', seed: 0, method: 'm', family: 'grid', configHash: 'h', feasible: false, targetPplReduction: 0,
    maxViolation: 0.1, costMultiple: 1, wallSeconds: 1, selectedStep: null, weights: [1], decisions: 0, infeasibleDecisions: 0, backtracks: 0, finishedAt: '', ...over,
  };
}

describe('results and summary', () => {
  it('keeps every complete line when a kill cut the last one', () => {
    const file = path.join(dir, 'results.jsonl');
    const r = new ResultsFile(file);
    r.add(record({ key: 'a' }));
    appendFileSync(file, '{"v":1,"key":"b","scen');
    expect(readResults(file).map((x) => x.key)).toEqual(['a']);
    const again = new ResultsFile(file);
    again.add(record({ key: 'c' }));
    expect(readResults(file).map((x) => x.key)).toEqual(['a', 'c']);
    writeFileSync(file, 'not json\n{"v":1,"key":"d"}\n');
    expect(() => readResults(file)).toThrow(/results\.jsonl:1: not a JSON record/);
  });

  it('reads every results file of a folder and appends to its own (one per process)', () => {
    const folder = path.join(dir, 'jobs');
    mkdirSync(folder);
    const a = new ResultsFile(path.join(folder, 'results-job0.jsonl'), folder);
    expect(a.all()).toEqual([]);
    a.add(record({ key: 'x' }));
    const b = new ResultsFile(path.join(folder, 'results-job1.jsonl'), folder);
    b.add(record({ key: 'y' }));
    expect(b.get('x')?.key).toBe('x');
    writeFileSync(path.join(folder, 'notes.jsonl'), 'not results\n');
    expect(resultsFiles(folder).map((f) => path.basename(f))).toEqual(['results-job0.jsonl', 'results-job1.jsonl']);
    expect(new ResultsFile(path.join(folder, 'results.jsonl'), folder).all().map((r) => r.key).sort()).toEqual(['x', 'y']);
    expect(readResults(path.join(folder, 'results-job0.jsonl')).map((r) => r.key)).toEqual(['x']);
  });

  it('computes best@k, the eval-selected best@10, the leave-out best and the DynaMiCS values per cell', () => {
    const test = [0, 0, 0, 0.02, 0.05, 0, 0, 0, 0.02, 0.05];
    // eval results: run 8 looks best on eval (0.04) though run 4 and 9 are best on test
    const evalR = [0, 0, 0, 0.03, 0.035, 0, 0, 0, 0.04, 0.03];
    const grid = test.map((x, k) => record({ method: `g${k}`, targetPplReduction: x, feasible: x > 0, evalReduction: evalR[k], wallSeconds: 10 }));
    const runs = [
      ...grid,
      record({ method: 'leave-out m=0.5', family: 'leave-out', targetPplReduction: 0.09, feasible: true, wallSeconds: 10 }),
      record({ method: 'paper-lp', family: 'dynamics', targetPplReduction: 0.07, feasible: true, costMultiple: 2.5, wallSeconds: 30 }),
      record({ method: 'avg:paper-lp', family: 'average', targetPplReduction: 0.08, feasible: true, wallSeconds: 10 }),
    ];
    const [cell] = cellsOf(runs);
    expect(methodValue(cell!, 'best@1')).toEqual({ reduction: 0, feasible: 0.4, cost: 1, wallCost: 1 });
    expect(methodValue(cell!, 'best@10')).toEqual({ reduction: 0.05, feasible: 1, cost: 10, wallCost: 10 });
    // best@3 over the 120 triples: 20 hold only zeros, 36 have 0.02 at best, 64 hold a 0.05; the
    // median triple (the 60th and 61st) has 0.05
    const b3 = methodValue(cell!, 'best@3')!;
    expect(b3.feasible).toBeCloseTo(1 - 20 / 120, 12);
    expect(b3.reduction).toBe(0.05);
    expect(methodValue(cell!, 'eval-selected best@10')).toEqual({ reduction: 0.02, feasible: 1, cost: 10, wallCost: 10 });
    expect(methodValue(cell!, 'best fixed (may leave out)')).toEqual({ reduction: 0.09, feasible: 1, cost: 11, wallCost: 11 });
    expect(methodValue(cell!, 'paper-lp')).toEqual({ reduction: 0.07, feasible: 1, cost: 2.5, wallCost: 3 });
    expect(methodValue(cell!, 'avg:paper-lp')).toEqual({ reduction: 0.08, feasible: 1, cost: 1, wallCost: 1 });
    expect(methodValue({ ...cell!, runs: runs.slice(1) }, 'best@10')).toBeNull(); // an incomplete grid counts for nothing
  });

  it('pairs each method with best@10 per cell and bootstraps the median difference over cells', () => {
    expect(bootstrapMedianInterval([0.01, 0.01, 0.01])).toEqual([0.01, 0.01]);
    const [lo, hi] = bootstrapMedianInterval([-0.02, 0, 0.01, 0.03, 0.05]);
    expect(lo).toBeLessThan(0.01);
    expect(hi).toBeGreaterThan(0.01);
    const cell = (scenario: string, dyn: number, best: number) => [
      ...Array.from({ length: 10 }, (_, k) => record({ scenario, method: `g${k}`, targetPplReduction: k === 0 ? best : 0, feasible: k === 0, evalReduction: 0 })),
      record({ scenario, method: 'default', family: 'dynamics', targetPplReduction: dyn, feasible: dyn > 0, costMultiple: 2 }),
    ];
    const table = pairedTable([...cell('a', 0.1, 0.05), ...cell('b', 0, 0.04), ...cell('c', 0.06, 0.02)]).join('\n');
    expect(table).toMatch(/\| default +\| +3 \| +\+4\.0 \| +\[-4\.0, \+5\.0\] \| +2 \/ 1 \|/);
  });

  it('tables the calibration per method and role, and the eval sets\' noise against the tolerance', () => {
    const calib = (method: string, slopes: (number | null)[]) =>
      record({ method, family: 'dynamics', calibration: { domains: ['t', 'c1', 'c2'], slopes, points: 6 } });
    const roleOf = (_s: string, d: string) => (d === 't' ? 'target' : 'constraint');
    const table = calibrationTable([calib('paper-lp', [0.5, 0.2, 0.4]), calib('paper-lp', [0.7, null, 0.1]), calib('default', [1, 0.9, 1.1])], roleOf).join('\n');
    expect(table).toMatch(/\| paper-lp +\| +0\.60 \[0\.55, 0\.65\] \(2\) \| +0\.20 \[0\.15, 0\.30\] \(3\) \|/);
    expect(table).toMatch(/\| default +\| +1\.00 \[1\.00, 1\.00\] \(1\) \| +1\.00 \[0\.95, 1\.05\] \(2\) \|/);
    const noise = noiseTable([
      record({ scenario: 'a', noise: { domains: ['t', 'c'], changeStdErrors: [0.004, 0.002], levelStdErrors: [0.1, 0.12], tolerances: [null, 0.02] } }),
      record({ scenario: 'b', noise: { domains: ['t', 'c'], changeStdErrors: [0.001, 0.009], levelStdErrors: [0.1, 0.1], tolerances: [null, 0.02] } }),
    ]).join('\n');
    expect(noise).toMatch(/\| a +\| +0\.0040 \(t\) \| +0\.0050 \| +yes \| +0\.1200 \|/);
    expect(noise).toMatch(/\| b +\| +0\.0090 \(c\) \| +0\.0050 \| +no \| +0\.1000 \|/);
  });

  it('summarizes over cells: medians, feasible shares, wins against best@10', () => {
    const cell = (scenario: string, dyn: number, best: number) => [
      ...Array.from({ length: 10 }, (_, k) => record({ scenario, method: `g${k}`, targetPplReduction: k === 0 ? best : 0, feasible: k === 0 })),
      record({ scenario, method: 'paper-none', family: 'dynamics', targetPplReduction: dyn, feasible: dyn > 0, costMultiple: 2 }),
    ];
    const rows = summarize([...cell('a', 0.1, 0.05), ...cell('b', 0, 0.04), ...cell('c', 0.06, 0.02)]);
    const by = Object.fromEntries(rows.map((r) => [r.method, r]));
    expect(rows.map((r) => r.method)).toEqual(['paper-none', 'best@1', 'best@3', 'best@10', 'eval-selected best@10']);
    expect(by['paper-none']).toMatchObject({ cells: 3, medianReduction: 0.06, medianCost: 2 });
    expect(by['paper-none']!.feasibleRate).toBeCloseTo(2 / 3, 12);
    expect(by['paper-none']!.beatsBest10).toBeCloseTo(2 / 3, 12);
    expect(by['best@10']).toMatchObject({ cells: 3, medianReduction: 0.04, feasibleRate: 1, medianCost: 10 });
    expect(by['best@1']).toMatchObject({ medianReduction: 0, medianCost: 1 });
    expect(by['best@1']!.feasibleRate).toBeCloseTo(0.1, 12);
    expect(by['eval-selected best@10']!.cells).toBe(0); // the records carry no eval results
  });
});
