// The live run: the run store loads a run from a real core and follows its run.* events on the
// core's real event bus; the view shows progress, curves with references, the mixture, each
// decision's heatmap and explanation, predicted against measured change, and the controls that apply.
import { describe, expect, it } from 'vitest';
import type { Core } from '../../src/main/bootstrap';
import type { ProcessExit, TrainerProcess } from '../../src/main/runner/process-launcher';
import type { ParentMessage } from '../../src/main/runner/trainer-protocol';
import type { DeviceChoice } from '../../src/main/engine/runtime-api';
import type { DatasetUse } from '../../src/shared/datasets';
import { formatCount } from '../../src/renderer/src/format';
import { useRunStore } from '../../src/renderer/src/stores/run';
import RunView from '../../src/renderer/src/views/RunView.vue';
import { StoreSink } from '../../src/main/runner/store-sink';
import { CheckpointFiles } from '../../src/main/store/checkpoints';
import { parseRunConfig } from '../../src/shared/run-config';
import { DOMAINS, seedRun, SOURCES } from './seed';
import { mountView, settle, storeContext, testCore, tinyResources, until } from './setup';

const { core, api } = testCore();

describe('run store', () => {
  it('loads details, decisions and curves, and explains the selected decision', async () => {
    const id = seedRun(core, { name: 'done', violateFrom: 32 });
    const ctx = storeContext(api);
    const run = ctx.run(() => useRunStore());
    await run.load(id);
    expect(run.error).toBeNull();
    expect(run.run?.status).toBe('completed');
    expect(run.sources).toEqual(SOURCES);
    expect(run.domains.map((d) => d.id)).toEqual(DOMAINS.map((d) => d.id));
    expect(run.decisions.map((d) => d.step)).toEqual([0, 16, 32]);
    expect(run.evalCurves.email!.steps).toEqual([0, 16, 32, 48, 64]);
    expect(run.trainLoss.steps.length).toBeGreaterThan(10);
    expect(run.references).toEqual([null, 2.0, expect.closeTo(1.818, 6), null]);
    // The latest decision is selected by default; its evaluation is the next one within its horizon.
    expect(run.selectedDecision?.step).toBe(32);
    run.selectDecision(16);
    expect(run.explanation?.evalStep).toBe(32);
    const email = run.explanation!.rows.find((r) => r.domain === 'email')!;
    expect(email.binding).toBe(true);
    expect(email.violated).toBe(true);
    expect(email.reference).toBe(2.0);
    expect(run.details?.report?.feasible).toBe(false);
    expect(run.details?.can.resume).toBe(false);
  });

  it('follows progress, evaluations, decisions and metrics of its own run only', async () => {
    const id = seedRun(core, { name: 'live', live: true });
    const ctx = storeContext(api);
    const run = ctx.run(() => useRunStore());
    const unfollow = run.follow();
    await run.load(id);
    expect(run.isLive).toBe(true);
    const before = run.evalCurves.code!.steps.length;
    core.bus.emit('run.progress', { runId: id, phase: 'probing', step: 40, totalSteps: 64, tokensPerSecond: 1234.5, elapsedSeconds: 10, etaSeconds: 6, tokensSeen: 4096, device: 'cpu', deviceReason: 'chosen in the config' });
    core.bus.emit('run.progress', { runId: id + 1000, phase: 'training', step: 1, totalSteps: 2, tokensPerSecond: 1, elapsedSeconds: 1, etaSeconds: 1, tokensSeen: 1, device: 'cuda', deviceReason: '' });
    core.bus.emit('run.eval', { runId: id, step: 48, losses: { code: 2.3, email: 1.97, licenses: 1.81, dictionary: 2.99 }, feasible: true, worstExcess: -0.01 });
    core.bus.emit('run.decision', { runId: id, decision: { step: 48, horizon: 16, weights: [0.2, 0.2, 0.6], slopes: null, losses: null, predicted: null, status: 'fixed', solver: {}, binding: [] } });
    core.bus.emit('run.metrics', { runId: id, points: [{ step: 44, kind: 'train_loss', domain: '', value: 2.4 }, { step: 44, kind: 'eval_loss', domain: 'code', value: 9 }] });
    await settle();
    expect(run.progress?.phase).toBe('probing');
    expect(run.progress?.device).toBe('cpu');
    expect(run.evalCurves.code!.steps.length).toBe(before + 1);
    expect(run.evalCurves.code!.values.at(-1)).toBe(2.3);
    expect(run.decisions.at(-1)?.step).toBe(48);
    expect(run.trainLoss.steps).toContain(44);
    unfollow();
    core.bus.emit('run.progress', { runId: id, phase: 'training', step: 50, totalSteps: 64, tokensPerSecond: 1, elapsedSeconds: 1, etaSeconds: 1, tokensSeen: 1, device: 'cpu', deviceReason: '' });
    expect(run.progress?.step).toBe(40);
  });

  it('shows what each dataset gives and loses, as the run logged it when it began', async () => {
    const id = seedRun(core, { name: 'data-run' });
    const config = parseRunConfig(core.store.reader.get(id).config);
    const data: DatasetUse[] = [
      { role: 'source', id: 'code', dataset: 'chats.jsonl', split: 'train', seqLen: 512, rows: 90, truncation: 'left', truncated: 10, tokensLost: 1234, lossTokensLost: 56 },
      { role: 'source', id: 'email', dataset: 'qa.jsonl', split: 'train', seqLen: 512, rows: 40, truncation: 'drop', truncated: 3, tokensLost: 2000, lossTokensLost: 700 },
      { role: 'domain', id: 'licenses', dataset: 'corpora/licenses', split: 'eval', seqLen: 512, rows: 20, truncation: null, truncated: 0, tokensLost: 0, lossTokensLost: 0 },
    ];
    // The store sink a trainer process begins with: it logs one event per split.
    const sink = new StoreSink({ store: core.store, files: new CheckpointFiles(core.layout.runs), runId: id, config, resumed: false, flushIntervalMs: 0 });
    sink.begin({ config, suite: false, device: { device: 'cpu', reason: 'chosen in the config' } as DeviceChoice, runDir: '.', startedAt: new Date(0).toISOString(), data });
    sink.flush();
    const ctx = storeContext(api);
    const run = ctx.run(() => useRunStore());
    await run.load(id);
    expect(run.data).toEqual(data);
    const { wrapper } = await mountView(RunView, api, { path: `/runs/${id}`, props: { id } });
    await until(() => wrapper.find('[data-testid="run-data"]').exists());
    const cells = wrapper.get('[data-testid="run-data-source-code-train"]').findAll('td').map((td) => td.text());
    expect(cells).toEqual(['source code', 'chats.jsonl', 'train', formatCount(90), `${formatCount(10)} cut from the left`, formatCount(1234), formatCount(56)]);
    expect(wrapper.get('[data-testid="run-data-source-email-train"]').text()).toContain('3 dropped');
    expect(wrapper.get('[data-testid="run-data-domain-licenses-eval"]').text()).toContain('packed');
    wrapper.unmount();
  });

  it('reads the measured outcomes again when a new decision arrives (the previous horizon closed before it)', async () => {
    const id = seedRun(core, { name: 'live-calibrated', live: true, calibration: true });
    const ctx = storeContext(api);
    const run = ctx.run(() => useRunStore());
    const unfollow = run.follow();
    await run.load(id);
    // Decisions at 0 and 16 were measured at 16 and 32; the one at 32 is still open.
    expect(new Set(run.outcomes.map((o) => o.step))).toEqual(new Set([0, 16]));
    expect(run.outcomes.filter((o) => o.domain === 'code').map((o) => o.actual / o.predicted)).toEqual([expect.closeTo(0.5, 12), expect.closeTo(0.5, 12)]);
    // The trainer measures the decision at 32 at step 48 and decides again there.
    const config = parseRunConfig(run.details!.run.config);
    const sink = new StoreSink({ store: core.store, files: new CheckpointFiles(core.layout.runs), runId: id, config, resumed: true, flushIntervalMs: 0 });
    sink.event('live-calibrated', { type: 'outcome', record: { step: 32, measuredAt: 48, predicted: [-0.1, 0, 0, 0], calibrated: [-0.07, 0, 0, 0], actual: [-0.05, 0, 0, 0] } });
    sink.flush();
    core.bus.emit('run.decision', { runId: id, decision: { step: 48, horizon: 16, weights: [0.2, 0.2, 0.6], slopes: null, losses: null, predicted: null, status: 'fixed', solver: {}, binding: [] } });
    await until(() => run.outcomes.some((o) => o.step === 32));
    expect(run.outcomes.find((o) => o.step === 32 && o.domain === 'code')).toMatchObject({ measuredAt: 48, predicted: -0.1, calibrated: -0.07, actual: -0.05 });
    expect(run.decisions.at(-1)?.step).toBe(48);
    unfollow();
  });
});

describe('run view', () => {
  it('shows progress, curves with references, the mixture, the heatmap and the explanation', async () => {
    const id = seedRun(core, { name: 'view-run', violateFrom: 32 });
    const { wrapper } = await mountView(RunView, api, { path: `/runs/${id}`, props: { id } });
    await until(() => wrapper.findAll('[data-testid^="loss-chart-"] svg').length === DOMAINS.length && wrapper.find('[data-testid="mixture-chart"] svg').exists());
    expect(wrapper.get('[data-testid="run-title"]').text()).toBe(`#${id} view-run`);
    expect(wrapper.get('[data-testid="run-status"]').text()).toBe('completed');
    expect(wrapper.get('[data-testid="live-progress"] [role="progressbar"]').attributes('aria-valuenow')).toBe('100');
    expect(wrapper.get('[data-testid="live-device"]').text()).toContain('cpu');
    for (const d of DOMAINS) expect(wrapper.find(`[data-testid="loss-chart-${d.id}"] svg`).exists()).toBe(true);
    expect(wrapper.get('[data-testid="loss-chart-email"] [role="img"]').attributes('aria-label')).toMatch(/reference 2\.0000, 3 above the reference/);
    expect(wrapper.find('[data-testid="mixture-chart"] svg').exists()).toBe(true);
    // Decisions: pick step 16; its heatmap and explanation follow.
    await wrapper.get('[data-testid="decision-step-16"]').trigger('click');
    await until(() => wrapper.find('[data-testid="decision-heatmap"] svg').exists());
    expect(wrapper.get('[data-testid="decision-step-16"]').attributes('aria-selected')).toBe('true');
    expect(wrapper.find('[data-testid="decision-heatmap"] svg').exists()).toBe(true);
    expect(wrapper.get('[data-testid="decision-heatmap"] [role="img"]').attributes('aria-label')).toContain('code: most helped by code');
    expect(wrapper.get('[data-testid="decision-explanation"]').text()).toContain('held back by email');
    expect(wrapper.get('[data-testid="explain-row-email"]').text()).toContain('binding');
    expect(wrapper.get('[data-testid="decision-whatif"]').attributes('href')).toContain(`run=${id}`);
    expect(wrapper.get('[data-testid="run-report"]').text()).toContain('infeasible');
    // A completed run offers no pause/resume/cancel.
    expect(wrapper.find('[data-testid="run-pause"]').exists()).toBe(false);
    expect(wrapper.find('[data-testid="run-cancel"]').exists()).toBe(false);
    wrapper.unmount();
  });

  it('plots predicted against measured change per domain and decision, with each domain\'s slope, either prediction', async () => {
    const id = seedRun(core, { name: 'calibrated', calibration: true });
    const { wrapper } = await mountView(RunView, api, { path: `/runs/${id}`, props: { id } });
    await until(() => wrapper.find('[data-testid="calibration-plot"] svg').exists());
    expect(wrapper.find('[data-testid="calibration-empty"]').exists()).toBe(false);
    const label = () => wrapper.get('[data-testid="calibration-plot"] [role="img"]').attributes('aria-label')!;
    // Three decisions, each measured at the end of its horizon (16, 32, 64), for every domain.
    expect(label()).toMatch(/^Measured against calibrated predicted change/);
    expect(label()).toContain('code: 3 decisions');
    expect(wrapper.get('[data-testid="calibration-plot"] svg').text()).toContain('email');
    // Measured = 0.5 × the raw prediction for code, 1.5 × for email; the latest decision scaled by 0.7 and 1.3.
    const cells = (domain: string) => wrapper.get(`[data-testid="calibration-row-${domain}"]`).findAll('td').map((td) => td.text());
    expect(cells('code')).toEqual(['code (T)', '3', expect.stringMatching(/^0\.\d\d$/), '0.50', '0.70']);
    expect(cells('email').slice(1)).toEqual(['3', expect.any(String), '1.50', '1.30']);
    expect(cells('licenses')[3]).toBe('1.00');
    // The calibrated predictions were closer: code's slope against them is nearer 1 than 0.5 is.
    const calibratedSlope = Number(cells('code')[2]);
    expect(Math.abs(calibratedSlope - 1)).toBeLessThan(0.5);
    await wrapper.get('[data-testid="calibration-basis"] input[value="predicted"]').setValue(true);
    await until(() => label().startsWith('Measured against uncalibrated'));
    expect(label()).toContain('code: 3 decisions, slope 0.50');
    expect(label()).toContain('email: 3 decisions, slope 1.50');
    wrapper.unmount();
  });

  it('says why there is no calibration chart: a fixed mixture, or a run from before calibration', async () => {
    const fixed = seedRun(core, { name: 'fixed-no-outcomes', strategy: 'fixed-uniform' });
    const a = await mountView(RunView, api, { path: `/runs/${fixed}`, props: { id: fixed } });
    await until(() => a.wrapper.find('[data-testid="calibration-empty"]').exists());
    expect(a.wrapper.get('[data-testid="calibration-empty"]').text()).toContain('A fixed mixture makes no predictions');
    expect(a.wrapper.find('[data-testid="calibration-plot"]').exists()).toBe(false);
    a.wrapper.unmount();
    const older = seedRun(core, { name: 'before-calibration' });
    const b = await mountView(RunView, api, { path: `/runs/${older}`, props: { id: older } });
    await until(() => b.wrapper.find('[data-testid="calibration-empty"]').exists());
    expect(b.wrapper.get('[data-testid="calibration-empty"]').text()).toContain('Runs from before calibration have none');
    expect(b.wrapper.find('[data-testid="calibration-table"]').exists()).toBe(false);
    b.wrapper.unmount();
  });

  it('pauses, resumes and cancels a run through the real supervisor, showing live progress as it arrives', async () => {
    let store: Core['store'] | null = null;
    const controlled = testCore({ resourcesDir: tinyResources(), launcher: { launch: ({ runId }) => new ScriptedTrainer(store!, runId) } });
    store = controlled.core.store;
    const { config } = await controlled.api.experiments.defaults();
    const { runIds } = await controlled.api.runs.start({ config });
    const id = runIds[0]!;
    const { wrapper } = await mountView(RunView, controlled.api, { path: `/runs/${id}`, props: { id } });
    await until(() => wrapper.find('[data-testid="run-pause"]').exists() && wrapper.get('[data-testid="live-phase"]').text() === 'Training');
    expect(wrapper.get('[data-testid="run-status"]').text()).toBe('running');
    expect(wrapper.get('[data-testid="live-eta"]').text()).toBe('2 min 05 s');
    expect(wrapper.get('[data-testid="live-tokens-per-second"]').text()).toBe('900');
    expect(wrapper.get('[data-testid="live-device"]').text()).toContain('CUDA EP not installed');
    expect(wrapper.get('[data-testid="live-progress"] [role="progressbar"]').attributes('aria-valuenow')).toBe('50');
    expect(wrapper.find('[data-testid="run-resume"]').exists()).toBe(false);

    await wrapper.get('[data-testid="run-pause"]').trigger('click');
    await until(() => wrapper.get('[data-testid="run-status"]').text() !== 'running');
    expect(wrapper.find('[data-testid="run-error"]').exists()).toBe(false);
    expect(wrapper.get('[data-testid="run-status"]').text()).toBe('paused');
    expect(wrapper.find('[data-testid="run-pause"]').exists()).toBe(false);

    await wrapper.get('[data-testid="run-resume"]').trigger('click');
    await until(() => wrapper.get('[data-testid="run-status"]').text() === 'running' && wrapper.find('[data-testid="run-cancel"]').exists());
    await wrapper.get('[data-testid="run-cancel"]').trigger('click');
    await until(() => wrapper.get('[data-testid="run-status"]').text() === 'cancelled');
    expect(wrapper.find('[data-testid="run-cancel"]').exists()).toBe(false);
    expect(wrapper.find('[data-testid="run-error"]').exists()).toBe(false);
    wrapper.unmount();
  });

  it('shows the core\'s refusal in words when a run cannot be loaded', async () => {
    const { wrapper } = await mountView(RunView, api, { path: '/runs/99999', props: { id: 99999 } });
    await until(() => wrapper.find('[data-testid="run-error"]').exists());
    expect(wrapper.get('[data-testid="run-error"]').text()).toMatch(/99999/);
    expect(wrapper.text()).toContain('This run could not be loaded');
    wrapper.unmount();
  });
});

/**
 * A test double of the TrainerProcess interface: it answers the supervisor as a trainer process
 * does — ready on a device, a progress event, and at a pause or cancel it records the run's new
 * status in the store (as the real child does through its own connection), says done and exits —
 * without training anything.
 */
class ScriptedTrainer implements TrainerProcess {
  readonly pid = undefined;
  private readonly messageListeners: ((m: unknown) => void)[] = [];
  private readonly exitListeners: ((e: ProcessExit) => void)[] = [];

  constructor(
    private readonly store: Core['store'],
    private readonly runId: number,
  ) {}

  send(message: ParentMessage): void {
    setTimeout(() => this.handle(message), 5);
  }
  onMessage(listener: (m: unknown) => void): void {
    this.messageListeners.push(listener);
  }
  onOutput(): void {}
  onExit(listener: (e: ProcessExit) => void): void {
    this.exitListeners.push(listener);
  }
  kill(signal = 'SIGTERM'): void {
    this.exit({ code: null, signal });
  }

  private tell(m: unknown): void {
    for (const l of this.messageListeners) l(m);
  }
  private exit(e: ProcessExit): void {
    for (const l of this.exitListeners) l(e);
  }
  private handle(m: ParentMessage): void {
    if (m.type === 'start') {
      this.tell({ type: 'ready', device: { device: 'cpu', reason: 'CUDA EP not installed' }, sourceSizes: [] });
      this.tell({ type: 'event', event: { type: 'progress', step: 32, totalSteps: 64, phase: 'training', tokensPerSecond: 900, elapsedSeconds: 8, etaSeconds: 125 } });
      return;
    }
    const outcome = m.type === 'pause' ? 'paused' : 'cancelled';
    this.store.runs.setStatus(this.runId, outcome, m.type === 'cancel' ? 'cancelled by the user' : null);
    this.tell({ type: 'done', outcome, step: null, reason: null });
    this.exit({ code: 0, signal: null });
  }
}
