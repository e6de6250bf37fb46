// The controller protocol for external trainers, through real HTTP on loopback to `dynamics serve`
// (a real core: SQLite store, glpk.js solver). The external trainer is the tests' SyntheticTrainer
// behind a protocol client (tests/helpers/controller-client.ts): registration, the plan of tasks,
// reports, decisions, refusals of everything malformed, a trainer that disappears and comes back,
// and the stored run checked decision for decision against our own loop on the same trainer and
// on the same recorded losses (replay).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../../../src/main/bootstrap';
import { createMixtureSolver, type DefaultMixtureSolver } from '../../../src/main/mixture/solver';
import { runExperiment } from '../../../src/main/runner/experiment';
import { CONTROLLER_LOG } from '../../../src/main/runner/remote-host';
import type { DecisionRecord } from '../../../src/main/runner/events';
import { startServer, type RunningServer } from '../../../src/main/serve/server';
import { parseRunConfig, type RunConfig } from '../../../src/shared/run-config';
import { CONTROLLER_PROTOCOL, type ControllerTask, type RegisterReply } from '../../../src/shared/services/controller';
import type { Decision } from '../../../src/shared/runs';
import { ControllerClient, drive, post, TrainerAnswerer } from '../../helpers/controller-client';
import { tempDir } from '../../helpers/temp';
import { readControllerLog, ReplayTrainer } from '../runner/replay-trainer';
import { convexConfig, convexTrainer } from '../runner/scenarios';

/** The convex scenario with the product's default controller (directional probes, trust region, calibration…). */
function externalConfig(seed = 0): Record<string, unknown> {
  const { model: _model, device: _device, ...rest } = convexConfig({ seed, beyondPaper: {} as never });
  return { ...rest, beyondPaper: {}, model: { name: 'synthetic' } };
}

function storedConfig(core: Core, runId: number): RunConfig {
  return parseRunConfig(core.store.reader.get(runId).config);
}

async function localDecisions(config: RunConfig, solver: DefaultMixtureSolver): Promise<DecisionRecord[]> {
  const report = await runExperiment(config, convexTrainer(config), solver);
  return report.history.decisions;
}

function expectSameDecisions(stored: Decision[], local: readonly DecisionRecord[], digits: number): void {
  expect(stored.map((d) => d.step)).toEqual(local.map((d) => d.step));
  stored.forEach((d, k) => {
    const l = local[k]!;
    expect(d.status).toBe(l.status);
    d.weights.forEach((w, j) => expect(w).toBeCloseTo(l.weights[j]!, digits));
    d.slopes!.forEach((row, i) => row.forEach((s, j) => expect(s).toBeCloseTo(l.slopes![i]![j]!, digits)));
  });
}

async function waitFor(what: string, check: () => boolean, ms = 15_000): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the controller protocol over HTTP', () => {
  const dir = tempDir();
  let core: Core;
  let server: RunningServer;
  let client: ControllerClient;
  let solver: DefaultMixtureSolver;

  beforeAll(async () => {
    core = createCore({ dataDir: path.join(dir, 'data') });
    server = await startServer({ core, port: 0 });
    client = new ControllerClient(server.port, server.token);
    solver = await createMixtureSolver();
  });
  afterAll(async () => {
    await server.close();
    await core.close();
  });

  const register = (extra: Record<string, unknown> = {}) =>
    client.ok<RegisterReply>('register', { protocol: CONTROLLER_PROTOCOL, config: externalConfig(), trainer: { name: 'synthetic', detail: 'a test double' }, ...extra });

  it('needs the token, like every API call', async () => {
    const reply = await post(server.port, '/api/call/controller.register', null, JSON.stringify({ input: { protocol: 1, config: {} } }));
    expect(reply.status).toBe(401);
  });

  it('refuses another protocol version, a bad config and gradient alignment in words', async () => {
    const mismatch = await client.call('register', { protocol: 99, config: externalConfig() });
    expect(mismatch).toMatchObject({ ok: false, error: { name: 'ProtocolMismatch' } });
    expect(!mismatch.ok && mismatch.error.message).toMatch(/protocol 1; the client speaks 99/);
    const bad = await client.call('register', { protocol: 1, config: { ...externalConfig(), domains: [{ id: 'x', role: 'boss' }] } });
    expect(bad).toMatchObject({ ok: false, error: { name: 'InvalidInput' } });
    expect(!bad.ok && bad.error.message).toMatch(/domains/);
    const noTarget = await client.call('register', { protocol: 1, config: { ...externalConfig(), domains: [{ id: 'c', role: 'constraint' }] } });
    expect(!noTarget.ok && noTarget.error.message).toMatch(/target/);
    const ga = await client.call('register', { protocol: 1, config: { ...externalConfig(), strategy: { kind: 'gradient-alignment' } } });
    expect(!ga.ok && ga.error.message).toMatch(/gradient alignment/);
    expect(core.store.reader.list({})).toEqual([]);
  });

  it('runs the loop on the trainer\'s reports: the stored run decides as our own loop on the same trainer and on the same losses', async () => {
    const reg = await register();
    expect(reg).toMatchObject({ protocol: 1, resumed: false, resumedFrom: null });
    expect(reg.config.evaluation.probeBatches).toBe(10);
    expect(reg.plan.evalSteps).toEqual([32, 64, 96, 128, 160, 192, 224, 256]);
    const answerer = new TrainerAnswerer(convexTrainer(storedConfig(core, reg.runId)));
    const last = await drive(client, reg, answerer);
    expect(last).toMatchObject({ kind: 'finished', status: 'completed' });
    await core.controller.host.settled(reg.runId);

    const run = core.store.reader.get(reg.runId);
    expect(run.status).toBe('completed');
    expect(run.launch?.external).toEqual({ protocol: 1, trainer: 'synthetic (a test double)' });
    expect(run.tags).toContain('external');
    expect(run.device).toBe('external');
    const stored = core.store.reader.decisions(reg.runId);
    expect(stored.length).toBeGreaterThan(3);
    // The plan said when: every update probed for as many steps as announced.
    expect(stored.map((d) => ({ step: d.step, horizon: d.horizon, probeSteps: d.solver.probeSteps }))).toEqual(reg.plan.updates);
    // Every decision reached the trainer with its mixture and a reason.
    expect(answerer.decisions.map((d) => d.step)).toEqual(stored.map((d) => d.step));
    answerer.decisions.forEach((d, k) => {
      expect(d.weights).toEqual(stored[k]!.weights);
      expect(d.reason).toMatch(/^(feasible|infeasible): /);
    });
    expect(answerer.counts.probe).toBe(stored.length * 2);
    // Curves and checkpoints like a local run's.
    const curves = await core.dispatch('runs.curves', { id: reg.runId, maxPoints: 0 });
    const series = curves.ok ? (curves.value as { series: { kind: string; domain: string; steps: number[] }[] }).series : [];
    expect(series.filter((s) => s.kind === 'eval_loss').map((s) => s.domain).sort()).toEqual(['c1', 'c2', 'target']);
    expect(series.find((s) => s.kind === 'eval_loss')!.steps).toEqual([0, 32, 64, 96, 128, 160, 192, 224, 256]);
    expect(series.find((s) => s.kind === 'train_loss')!.steps.at(-1)).toBe(256);
    expect(core.store.reader.checkpoints(reg.runId).length).toBe(8);

    // The same decisions as the local loop on a twin of the trainer (floating round-off aside: the
    // protocol carries per-batch losses and the controller takes their token-weighted mean).
    expectSameDecisions(stored, await localDecisions(storedConfig(core, reg.runId), solver), 9);

    // And exactly the same as the loop fed the recorded losses.
    const log = readControllerLog(path.join(core.layout.runs, String(reg.runId), CONTROLLER_LOG));
    const replay = new ReplayTrainer(log);
    const replayed = await runExperiment(storedConfig(core, reg.runId), replay, solver);
    expect(replay.remaining).toBe(0);
    expect(replayed.history.decisions.map((d) => ({ step: d.step, weights: d.weights, slopes: d.slopes, status: d.status }))).toEqual(
      stored.map((d) => ({ step: d.step, weights: d.weights, slopes: d.slopes, status: d.status })),
    );
    expect(core.store.reader.get(reg.runId).targetGain).toBe(replayed.test.targetPplReduction);
  });

  it('runs a fixed mixture for the trainer too (a baseline beside the controlled run), and asks the sizes a proportional one needs', async () => {
    const reg = await register({ config: { ...externalConfig(), strategy: { kind: 'fixed-uniform', targetMass: 0.5 } } });
    const answerer = new TrainerAnswerer(convexTrainer(storedConfig(core, reg.runId)));
    expect(await drive(client, reg, answerer)).toMatchObject({ kind: 'finished', status: 'completed' });
    await core.controller.host.settled(reg.runId);
    expect(answerer.decisions).toEqual([{ step: 0, weights: [0.5, 0.5], status: 'fixed', reason: 'a fixed mixture (fixed-uniform)' }]);
    expect(answerer.counts.probe).toBeUndefined();
    const local = await runExperiment(storedConfig(core, reg.runId), convexTrainer(storedConfig(core, reg.runId)), solver);
    expect(core.store.reader.get(reg.runId).targetGain).toBeCloseTo(local.test.targetPplReduction, 9);
    const proportional = await client.call('register', { protocol: 1, config: { ...externalConfig(), strategy: { kind: 'fixed-proportional', targetMass: 0.5 } } });
    expect(proportional).toMatchObject({ ok: false, error: { name: 'InvalidInput', message: expect.stringMatching(/sources\.0\.size/) } });
  });

  it('refuses malformed, misplaced and unknown reports in words, and the run goes on', async () => {
    const reg = await register();
    const ids = { runId: reg.runId, session: reg.session };
    const task = await client.ok<ControllerTask>('next', { ...ids, waitSeconds: 5 });
    expect(task).toMatchObject({ kind: 'evaluate', split: 'regular', batches: 20, step: 0 });
    // Asking again hands out the same task (a client that lost a reply).
    expect(await client.ok<ControllerTask>('next', { ...ids, waitSeconds: 5 })).toEqual(task);

    const refused = async (input: unknown, name: string, message: RegExp) => {
      const r = await client.call('report', input);
      expect(r).toMatchObject({ ok: false, error: { name } });
      expect(!r.ok && r.error.message).toMatch(message);
    };
    const good = { kind: 'evaluate', domains: [0, 1, 2].map(() => ({ batchLosses: [1, 1] })) };
    await refused({ ...ids, seq: task.seq + 1, result: good }, 'WrongPhase', /not waiting for a report; task \d+ \(evaluate\) is open/);
    await refused({ ...ids, seq: task.seq, result: { kind: 'train', steps: 1, meanLoss: 1 } }, 'WrongPhase', /evaluate task; the report is a train result/);
    await refused({ ...ids, seq: task.seq, result: { kind: 'evaluate', domains: [{ batchLosses: [1] }] } }, 'InvalidInput', /1 domains; the run has 3/);
    await refused({ ...ids, seq: task.seq, result: { kind: 'evaluate', domains: [0, 1, 2].map(() => ({ batchLosses: [1, null] })) } }, 'InvalidInput', /batchLosses/);
    await refused({ ...ids, seq: task.seq, result: { kind: 'evaluate', domains: [0, 1, 2].map(() => ({ batchLosses: new Array(21).fill(1) })) } }, 'InvalidInput', /21 batch losses; the task asked for 20/);
    await refused({ ...ids, seq: task.seq, result: { kind: 'evaluate', domains: [0, 1, 2].map(() => ({ batchLosses: [1, 2], batchTokens: [3] })) } }, 'InvalidInput', /2 batch losses but 1 token counts/);
    await refused({ ...ids, session: 'f'.repeat(32), seq: task.seq, result: good }, 'StaleSession', /register again with runId/);
    await refused({ runId: 999_999, session: reg.session, seq: 1, result: good }, 'UnknownRun', /no external run 999999/);
    await refused({ ...ids, seq: task.seq, result: { kind: 'teleport' } }, 'InvalidInput', /result/);
    // NaN is not JSON: refused before parsing, and the server keeps serving.
    const nan = await post(server.port, '/api/call/controller.report', server.token, `{"input":{"runId":${reg.runId},"session":"${reg.session}","seq":${task.seq},"result":{"kind":"evaluate","domains":[{"batchLosses":[NaN]}]}}}`);
    expect(nan.status).toBe(400);
    const huge = await post(server.port, '/api/call/controller.report', server.token, `{"input":{"batchLosses":[${new Array(120_000).fill(1).join(',')}]}}`);
    expect(huge.status).toBe(413);

    // Nothing of that reached the loop: the same trainer completes the run.
    const answerer = new TrainerAnswerer(convexTrainer(storedConfig(core, reg.runId)));
    const result = await answerer.answer(task);
    await client.ok('report', { ...ids, seq: task.seq, result });
    expect(await drive(client, reg, answerer)).toMatchObject({ kind: 'finished', status: 'completed' });
    await core.controller.host.settled(reg.runId);
    expectSameDecisions(core.store.reader.decisions(reg.runId), await localDecisions(storedConfig(core, reg.runId), solver), 9);
    // A finished run is not registered again.
    const again = await client.call('register', { protocol: 1, config: externalConfig(), runId: reg.runId });
    expect(again).toMatchObject({ ok: false, error: { name: 'WrongPhase' } });
    // A local run's id is not an external run's.
    const unknown = await client.call('register', { protocol: 1, config: externalConfig(), runId: 424_242 });
    expect(unknown).toMatchObject({ ok: false, error: { name: 'UnknownRun' } });
  });

  it('leaves the run interrupted when the trainer disappears, and continues it from its checkpoint when it registers again', async () => {
    const reg = await register({ leaseSeconds: 2 });
    const trainer = convexTrainer(storedConfig(core, reg.runId));
    const answerer = new TrainerAnswerer(trainer);
    let task = await client.ok<ControllerTask>('next', { runId: reg.runId, session: reg.session, waitSeconds: 5 });
    // A long task: heartbeats keep the lease.
    for (let k = 0; k < 6; k++) {
      await new Promise((r) => setTimeout(r, 500));
      expect(await client.ok('heartbeat', { runId: reg.runId, session: reg.session })).toEqual({ status: 'running' });
    }
    // Past the checkpoints at steps 32 and 64, then silence.
    while (!(task.kind === 'train' && task.step >= 80)) {
      await client.ok('report', { runId: reg.runId, session: reg.session, seq: task.seq, result: await answerer.answer(task) });
      task = await client.ok<ControllerTask>('next', { runId: reg.runId, session: reg.session, waitSeconds: 5 });
    }
    await waitFor('the run to be interrupted', () => core.store.reader.get(reg.runId).status === 'interrupted');
    expect(core.store.reader.get(reg.runId).statusReason).toMatch(/no call for 2 s; it continues when the trainer registers run \d+ again/);
    const gone = await client.call('next', { runId: reg.runId, session: reg.session, waitSeconds: 0 });
    expect(gone.ok && gone.value).toMatchObject({ kind: 'finished', status: 'interrupted' });
    // The app cannot resume it: only its trainer can.
    await expect(core.supervisor.resume(reg.runId)).rejects.toThrow(/external trainer/);
    expect(core.services.runs.get(reg.runId).can).toMatchObject({ pause: false, resume: false, cancel: true });
    // A run continues with its own config.
    const other = await client.call('register', { protocol: 1, config: { ...externalConfig(), seed: 7 }, runId: reg.runId });
    expect(other).toMatchObject({ ok: false, error: { name: 'InvalidInput', message: expect.stringMatching(/config differs/) } });

    const back = await register({ runId: reg.runId });
    expect(back).toMatchObject({ runId: reg.runId, resumed: true, resumedFrom: 64 });
    expect(await client.call('next', { runId: reg.runId, session: reg.session, waitSeconds: 0 })).toMatchObject({ ok: false, error: { name: 'StaleSession' } });
    const first = await client.ok<ControllerTask>('next', { runId: back.runId, session: back.session, waitSeconds: 5 });
    expect(first).toMatchObject({ kind: 'load', loadStep: 64 });
    expect(JSON.parse((first as Extract<ControllerTask, { kind: 'load' }>).ref)).toMatchObject({ step: 64 });
    await client.ok('report', { runId: back.runId, session: back.session, seq: first.seq, result: await answerer.answer(first) });
    expect(await drive(client, back, answerer)).toMatchObject({ kind: 'finished', status: 'completed' });
    await core.controller.host.settled(reg.runId);
    // The trainer's checkpoint restores it exactly, so the run decides as if never interrupted.
    expectSameDecisions(core.store.reader.decisions(reg.runId), await localDecisions(storedConfig(core, reg.runId), solver), 9);
    expect(existsSync(path.join(core.layout.runs, String(reg.runId), CONTROLLER_LOG))).toBe(true);
  });

  it('a trainer that registers again while its session is live replaces it; one that detaches leaves the run interrupted', async () => {
    const reg = await register();
    const answerer = new TrainerAnswerer(convexTrainer(storedConfig(core, reg.runId)));
    await drive(client, reg, answerer, 5);
    const back = await register({ runId: reg.runId });
    expect(back).toMatchObject({ resumed: true, resumedFrom: null });
    expect(core.store.reader.get(reg.runId).status).toBe('running');
    const detached = await client.ok<{ status: string }>('detach', { runId: back.runId, session: back.session, reason: 'pre-empted' });
    expect(detached.status).toBe('interrupted');
    await core.controller.host.settled(reg.runId);
    expect(core.store.reader.get(reg.runId)).toMatchObject({ status: 'interrupted', statusReason: expect.stringMatching(/detached: pre-empted/) });
  });

  it('stops the trainer when the run is cancelled in the app', async () => {
    const reg = await register();
    const answerer = new TrainerAnswerer(convexTrainer(storedConfig(core, reg.runId)));
    // The trainer holds a task when the run is cancelled in the app.
    const held = await drive(client, reg, answerer, 3);
    await core.supervisor.cancel(reg.runId);
    await core.controller.host.settled(reg.runId);
    expect(core.store.reader.get(reg.runId).status).toBe('cancelled');
    // Its report is dropped, not refused; then it hears how the run ended.
    const ids = { runId: reg.runId, session: reg.session };
    expect(await client.ok('report', { ...ids, seq: held.seq, result: await answerer.answer(held) })).toEqual({ accepted: false });
    expect(await client.ok('heartbeat', ids)).toEqual({ status: 'cancelled' });
    expect(await drive(client, reg, answerer)).toMatchObject({ kind: 'finished', status: 'cancelled' });
  });
});
