// runs.*: real runs recorded by the trainer's StoreSink (the experiment loop over SyntheticTrainer,
// a test double of the Trainer interface), read back through the service: list with sorting and
// filters, details with the recorded plan/references/report, curves downsampled for charts,
// comparisons, config diffs, decisions, the log, tags, deletion and CSV.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { EventEnvelope } from '../../../src/shared/events';
import type { RunLogEvent, RunSummary } from '../../../src/shared/runs';
import type { ConfigDiffRow, CurveSeries, RunComparison, RunDecisions, RunDetails, RunListPage } from '../../../src/shared/services/runs';
import { DRAWN_DIGITS } from '../../../src/main/services/downsample';
import { testCore } from './helpers';
import { recordSyntheticRun } from './recorded-runs';

describe('runs service', () => {
  const core = testCore();
  let dyn: number;
  let fixed: number;

  beforeAll(async () => {
    dyn = await recordSyntheticRun(core.store, core.layout.runs, { name: 'adaptive' }, ['paper']);
    fixed = await recordSyntheticRun(core.store, core.layout.runs, { name: 'uniform half', strategy: { kind: 'fixed-uniform', targetMass: 0.5 } });
  });

  it('lists runs newest first, sorts by a column with nulls last, and filters', async () => {
    const all = await core.call<RunListPage>('runs.list');
    expect(all.runs.map((r) => r.id)).toEqual([fixed, dyn]);
    expect(all).toMatchObject({ total: 2, tags: ['paper'], strategies: ['dynamics', 'fixed-uniform'] });
    expect(all.runs.every((r) => r.status === 'completed' && r.costMultiple !== null)).toBe(true);
    const byCost = await core.call<RunListPage>('runs.list', { sort: 'costMultiple', direction: 'asc' });
    expect(byCost.runs.map((r) => r.id)).toEqual([fixed, dyn]);
    expect(byCost.runs[0]!.costMultiple).toBeCloseTo(1, 6);
    expect((await core.call<RunListPage>('runs.list', { tag: 'paper' })).runs.map((r) => r.id)).toEqual([dyn]);
    expect((await core.call<RunListPage>('runs.list', { strategy: 'fixed-uniform' })).runs.map((r) => r.id)).toEqual([fixed]);
    expect((await core.call<RunListPage>('runs.list', { search: 'ADAPT' })).runs.map((r) => r.id)).toEqual([dyn]);
    expect((await core.call<RunListPage>('runs.list', { status: ['running'] })).total).toBe(0);
    const page = await core.call<RunListPage>('runs.list', { limit: 1, offset: 1 });
    expect(page).toMatchObject({ total: 2, runs: [{ id: dyn }] });
  });

  it('gives a run with the plan, references and report the trainer recorded', async () => {
    const d = await core.call<RunDetails>('runs.get', { id: dyn });
    expect(d.run).toMatchObject({ id: dyn, name: 'adaptive', status: 'completed', sources: ['fast', 'slow', 'repair', 'aux'] });
    expect(d.plan!.updates.map((u) => u.step)[0]).toBe(0);
    expect(d.references!.baseLosses).toHaveLength(4);
    expect(d.references!.references[0]).toBeNull();
    expect(d.report!.label).toBe('dynamics');
    expect(d.report!.test.feasible).toBe(d.run.feasible);
    expect(d.can).toEqual({ pause: false, resume: false, cancel: false, delete: true });
    expect((await core.fail('runs.get', { id: 999 })).name).toBe('NotFound');
  });

  it('returns curves whole when small, and downsampled with their ends and aligned columns when large', async () => {
    const whole = await core.call<{ series: CurveSeries[] }>('runs.curves', { id: dyn, kind: 'train_loss' });
    expect(whole.series).toHaveLength(1);
    const s = whole.series[0]!;
    expect(s).toMatchObject({ kind: 'train_loss', domain: '', downsampled: false });
    expect(s.steps).toHaveLength(s.rawPoints);
    const small = await core.call<{ series: CurveSeries[] }>('runs.curves', { id: dyn, kind: 'train_loss', maxPoints: 5 });
    const d = small.series[0]!;
    expect(d).toMatchObject({ downsampled: true, rawPoints: s.rawPoints });
    expect(d.steps).toHaveLength(5);
    expect(d.steps[0]).toBe(s.steps[0]);
    expect(d.steps.at(-1)).toBe(s.steps.at(-1));
    for (let k = 0; k < 5; k++) {
      const i = s.steps.indexOf(d.steps[k]!);
      expect([d.tokens[k], d.wallMs[k]]).toEqual([s.tokens[i], s.wallMs[i]]);
      expect(d.values[k]).toBe(Number(s.values[i]!.toPrecision(DRAWN_DIGITS)));
    }
    const evals = await core.call<{ series: CurveSeries[] }>('runs.curves', { id: dyn, kind: 'eval_loss' });
    expect(evals.series.map((x) => x.domain)).toEqual(['c1', 'c2', 'monitor', 'target']);
  });

  it('serves the curves of a finished run again from memory until the run changes', async () => {
    const q = { id: dyn, kind: 'eval_loss', maxPoints: 3 };
    const a = core.services.runs.curves(q);
    const b = core.services.runs.curves(q);
    expect(b.series[0]).toBe(a.series[0]);
    await core.call('runs.setTags', { id: dyn, tags: ['paper'] });
    const c = core.services.runs.curves(q);
    expect(c.series[0]).not.toBe(a.series[0]);
    expect(c.series).toEqual(a.series);
    expect(core.services.runs.compare({ ids: [dyn], kind: 'eval_loss', maxPoints: 3 }).series[0]).toBe(c.series[0]);
  });

  it('compares the same curve of several runs and diffs their configurations', async () => {
    const c = await core.call<RunComparison>('runs.compare', { ids: [dyn, fixed], kind: 'eval_loss', domain: 'target' });
    expect(c.runs.map((r: RunSummary) => r.id)).toEqual([dyn, fixed]);
    expect(c.series.map((x) => [x.runId, x.domain])).toEqual([[dyn, 'target'], [fixed, 'target']]);
    const diff = await core.call<ConfigDiffRow[]>('runs.configDiff', { ids: [dyn, fixed] });
    expect(diff.map((r) => r.path)).toEqual(['name', 'strategy.kind', 'strategy.targetMass']);
    expect(diff[2]!.values).toEqual([null, 0.5]);
  });

  it('reads a finished run once for both curves the compare view asks for, and answers as a read of one kind would', async () => {
    const fresh = await recordSyntheticRun(core.store, core.layout.runs, { name: 'read once' });
    const reads = vi.spyOn(core.store.reader, 'curves');
    try {
      const evalCmp = await core.call<RunComparison>('runs.compare', { ids: [fresh], kind: 'eval_loss', maxPoints: 7 });
      const train = await core.call<RunComparison>('runs.compare', { ids: [fresh], kind: 'train_loss', maxPoints: 7 });
      expect(reads).toHaveBeenCalledTimes(1);
      expect(evalCmp.series.map((x) => x.kind)).toEqual(['eval_loss', 'eval_loss', 'eval_loss', 'eval_loss']);
      // The same answer as a query that reads the one kind (a domain given is read on its own).
      const direct = await core.call<RunComparison>('runs.compare', { ids: [fresh], kind: 'train_loss', domain: '', maxPoints: 7 });
      expect(reads).toHaveBeenCalledTimes(2);
      expect(train.series).toEqual(direct.series);
      expect(train.series[0]!.steps).toHaveLength(7);
      // A kind the run does not have is an empty answer, kept like the others.
      for (let i = 0; i < 2; i++) expect((await core.call<RunComparison>('runs.compare', { ids: [fresh], kind: 'no_such_kind', maxPoints: 7 })).series).toEqual([]);
      expect(reads).toHaveBeenCalledTimes(3);
      // Every domain is not the run-wide domain '': eval loss asked for domain '' has nothing.
      expect((await core.call<RunComparison>('runs.compare', { ids: [fresh], kind: 'eval_loss', domain: '', maxPoints: 7 })).series).toEqual([]);
    } finally {
      reads.mockRestore();
      await core.call('runs.delete', { id: fresh });
    }
  });

  it('gives the decisions with the sources, domains, references and base losses they refer to', async () => {
    const r = await core.call<RunDecisions>('runs.decisions', { id: dyn });
    expect(r.sources).toEqual(['fast', 'slow', 'repair', 'aux']);
    expect(r.domains.map((d) => d.role)).toEqual(['target', 'constraint', 'constraint', 'monitor']);
    expect(r.references).toHaveLength(4);
    expect(r.baseLosses).toHaveLength(4);
    expect(r.decisions.length).toBeGreaterThan(1);
    for (const d of r.decisions) {
      expect(d.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
      expect(d.slopes).toHaveLength(4);
    }
    const f = await core.call<RunDecisions>('runs.decisions', { id: fixed });
    expect(f.decisions).toHaveLength(1);
    expect(f.decisions[0]!.status).toBe('fixed');
    // Several runs in one answer, in the order asked, each as runs.decisions gives it.
    const both = await core.call<RunDecisions[]>('runs.decisionsOf', { ids: [fixed, dyn, fixed] });
    expect(both).toEqual([f, r]);
    await expect(core.call('runs.decisionsOf', { ids: [dyn, 9999] })).rejects.toThrow(/there is no run 9999/);
  });

  it('pages through the log', async () => {
    const first = await core.call<RunLogEvent[]>('runs.events', { id: dyn, limit: 2 });
    expect(first).toHaveLength(2);
    const rest = await core.call<RunLogEvent[]>('runs.events', { id: dyn, afterId: first[1]!.id });
    expect(rest[0]!.id).toBeGreaterThan(first[1]!.id);
    expect(rest.at(-1)!.message).toMatch(/completed|finished/);
  });

  it('exports the curves as CSV with one row per point', async () => {
    const csv = await core.call<{ fileName: string; text: string }>('runs.exportCsv', { ids: [dyn, fixed], kind: 'eval_loss' });
    expect(csv.fileName).toBe(`runs-${dyn}-${fixed}.csv`);
    const lines = csv.text.trimEnd().split('\n');
    expect(lines[0]).toBe('run_id,run_name,strategy,step,tokens,wall_ms,kind,domain,value');
    const curves = await core.call<{ series: CurveSeries[] }>('runs.curves', { id: dyn, kind: 'eval_loss', maxPoints: 0 });
    const points = curves.series.reduce((n, s) => n + s.steps.length, 0);
    const mine = lines.filter((l) => l.startsWith(`${dyn},adaptive,dynamics,`));
    expect(mine).toHaveLength(points);
    const target = curves.series.find((s) => s.domain === 'target')!;
    expect(mine).toContain(`${dyn},adaptive,dynamics,${target.steps[1]},${target.tokens[1]},${target.wallMs[1]},eval_loss,target,${target.values[1]}`);
  });

  it('renames, tags and deletes a run with its folder, telling subscribers; the next run gets a new id', async () => {
    // What a trainer process leaves in a run's folder: its report and a checkpoints folder.
    const folder = path.join(core.layout.runs, String(fixed));
    mkdirSync(path.join(folder, 'checkpoints'), { recursive: true });
    writeFileSync(path.join(folder, 'report.json'), '{}');
    expect((await core.call<RunSummary>('runs.setTags', { id: fixed, tags: ['baseline', ' ', 'baseline'] })).tags).toEqual(['baseline']);
    expect((await core.call<RunSummary>('runs.rename', { id: fixed, name: 'half and half' })).name).toBe('half and half');
    const seen: EventEnvelope[] = [];
    const off = core.bus.subscribe((e) => seen.push(e));
    await core.call('runs.delete', { id: fixed });
    off();
    expect(seen).toEqual([{ event: 'run.status', payload: { runId: fixed, status: 'deleted', reason: null } }]);
    expect((await core.call<RunListPage>('runs.list')).runs.map((r) => r.id)).toEqual([dyn]);
    expect(existsSync(folder)).toBe(false);
    const next = await recordSyntheticRun(core.store, core.layout.runs, { name: 'after the deletion' });
    expect(next).toBeGreaterThan(fixed);
  });
});
