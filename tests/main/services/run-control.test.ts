// runs.start / pause / resume / cancel through the real run supervisor: a tiny DynaMiCS run (3
// sources, 4 domains) trains in a forked trainer process, and the run.* events a live view
// receives carry exactly what the store holds afterwards.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EventEnvelope, EventMap } from '../../../src/shared/events';
import type { RunSummary } from '../../../src/shared/runs';
import type { CurveSeries, RunDecisions, RunDetails } from '../../../src/shared/services/runs';
import { writeTinyCorpora, writeTinyModel } from '../runner/tiny-fixtures';
import { testCore } from './helpers';

const FINAL = ['completed', 'failed', 'interrupted', 'cancelled', 'paused'];

describe('runs control through the supervisor', () => {
  const core = testCore();
  let config: Record<string, unknown>;

  beforeAll(() => {
    const dir = path.join(core.root, 'fixtures');
    writeTinyModel(path.join(dir, 'tiny-model'));
    writeTinyCorpora(path.join(dir, 'corpora'), ['code', 'email', 'licenses', 'dictionary']);
    const c = parse(readFileSync(path.join(import.meta.dirname, '..', '..', 'fixtures', 'runner', 'tiny-run.yaml'), 'utf8')) as { model: { path: string }; sources: { dataset: string }[]; domains: { dataset: string }[] };
    c.model.path = path.join(dir, 'tiny-model');
    for (const x of [...c.sources, ...c.domains]) x.dataset = path.join(dir, x.dataset);
    config = c as unknown as Record<string, unknown>;
  });

  /**
   * Events of one run until it reaches one of `until`. The id is known only once runs.start
   * answers, after the run's first status events: everything is kept and filtered by id.
   */
  function follow(runId: () => number | undefined, until: string[]): { events: EventEnvelope[]; ended: Promise<string> } {
    const all: EventEnvelope[] = [];
    let resolve!: (s: string) => void;
    const ended = new Promise<string>((r) => (resolve = r));
    const mine = (e: EventEnvelope) => (e.payload as { runId?: number }).runId === runId();
    const off = core.bus.subscribe((e) => {
      all.push(e);
      const status = e.event === 'run.status' ? (e.payload as EventMap['run.status']).status : null;
      if (status && mine(e) && until.includes(status)) {
        off();
        resolve(status);
      }
    });
    return {
      get events() {
        return all.filter(mine);
      },
      ended,
    };
  }

  it('trains a run and streams progress, decisions, evaluations and metrics that match the store', async () => {
    const run: { id?: number } = {};
    const live = follow(() => run.id, FINAL);
    run.id = (await core.call<{ runIds: number[] }>('runs.start', { config })).runIds[0];
    const id = run.id;
    expect(await live.ended).toBe('completed');
    const of = <E extends keyof EventMap>(name: E) => live.events.filter((e) => e.event === name).map((e) => e.payload as EventMap[E]);
    expect(of('run.status').map((s) => s.status)).toEqual(['created', 'running', 'completed']);
    const progress = of('run.progress');
    expect(progress.length).toBeGreaterThan(2);
    expect(progress.at(-1)).toMatchObject({ runId: id, device: 'cpu', totalSteps: 24 });
    expect(progress.some((p) => p.phase === 'probing')).toBe(true);
    const stored = await core.call<RunDecisions>('runs.decisions', { id });
    expect(of('run.decision').map((d) => d.decision)).toEqual(stored.decisions);
    expect(of('run.eval').map((e) => e.step)).toEqual([0, 8, 16, 24]);
    const curves = await core.call<{ series: CurveSeries[] }>('runs.curves', { id, kind: 'eval_loss', maxPoints: 0 });
    const livePoints = of('run.metrics').flatMap((m) => m.points).filter((p) => p.kind === 'eval_loss');
    const storedPoints = curves.series.flatMap((s) => s.steps.map((step, i) => ({ step, kind: s.kind, domain: s.domain, value: s.values[i] })));
    const key = (p: { step: number; domain: string }) => `${p.domain}@${p.step}`;
    expect([...livePoints].sort((a, b) => key(a).localeCompare(key(b)))).toEqual([...storedPoints].sort((a, b) => key(a).localeCompare(key(b))));
    const details = await core.call<RunDetails>('runs.get', { id });
    expect(details.report?.history.decisions).toHaveLength(3);
    expect(details.run.device).toBe('cpu');
    expect(details.run.tokensSeen).toBeGreaterThan(0);
    expect(progress.at(-1)!.tokensSeen).toBe(details.run.tokensSeen);
  });

  it('pauses a run at a checkpoint, resumes it to the end, and cancels another', async () => {
    const run: { id?: number } = {};
    const first = follow(() => run.id, FINAL);
    const progressed = new Promise<void>((resolve) => {
      const off = core.bus.subscribe((e) => {
        if (e.event === 'run.progress' && (e.payload as EventMap['run.progress']).runId === run.id && (e.payload as EventMap['run.progress']).step > 0) {
          off();
          resolve();
        }
      });
    });
    run.id = (await core.call<{ runIds: number[] }>('runs.start', { config: { ...config, name: 'paused' } })).runIds[0];
    const id = run.id;
    await progressed;
    const paused = await core.call<RunSummary>('runs.pause', { id });
    expect(await first.ended).toBe('paused');
    expect(paused.status).toBe('paused');
    expect((await core.call<RunDetails>('runs.get', { id })).can).toMatchObject({ pause: false, resume: true, cancel: true });
    const second = follow(() => run.id, ['completed', 'failed', 'interrupted', 'cancelled']);
    expect((await core.call<RunSummary>('runs.resume', { id })).status).toBe('running');
    expect(await second.ended).toBe('completed');
    expect((await core.fail('runs.pause', { id })).message).toMatch(/only a running run can be paused/);

    const other: { id?: number } = {};
    const third = follow(() => other.id, FINAL);
    other.id = (await core.call<{ runIds: number[] }>('runs.start', { config: { ...config, name: 'cancelled' } })).runIds[0];
    expect((await core.call<RunSummary>('runs.cancel', { id: other.id })).status).toBe('cancelled');
    expect(await third.ended).toBe('cancelled');
  });

  it('refuses an invalid configuration in words before creating anything', async () => {
    const e = await core.fail('runs.start', { config: { ...config, training: { steps: 0 } } });
    expect(e.message).toMatch(/training\.steps must be at least 1/);
  });
});
