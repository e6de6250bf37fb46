// The experiment form against a real core (a bundled tiny model and the bundled corpora):
// defaults, validation messages beside the fields they concern, wiring datasets, the plan, the
// controller's options beyond the paper (paper-exact in one click), saving and loading a config
// file through the experiments service.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { beyondPaperSchema, paperExactOptions } from '../../src/shared/run-config';
import { useExperimentStore } from '../../src/renderer/src/stores/experiment';
import ExperimentView from '../../src/renderer/src/views/ExperimentView.vue';
import { mountView, storeContext, testCore, tinyResources, until } from './setup';

const { api } = testCore({ resourcesDir: tinyResources() });
afterEach(() => vi.restoreAllMocks());

describe('experiment store', () => {
  it('starts from the defaults (bundled model and corpora) and validates them', async () => {
    const ctx = storeContext(api);
    const exp = ctx.run(() => useExperimentStore());
    await exp.loadDefaults();
    expect(exp.error).toBeNull();
    expect(exp.draft?.model.path).toBe('bundled:tiny');
    expect(exp.draft?.domains.map((d) => `${d.id}:${d.role}`)).toEqual(['code:target', 'email:constraint', 'licenses:constraint', 'dictionary:monitor']);
    expect(await exp.validate()).toBe(true);
    expect(exp.plan?.updates[0]?.step).toBe(0);
    expect(exp.plan?.plannedCostMultiple).toBeGreaterThan(1);
  });

  it('puts each problem on its field, across fields and for what only the core can check', async () => {
    const ctx = storeContext(api);
    const exp = ctx.run(() => useExperimentStore());
    await exp.loadDefaults();
    exp.draft!.training.steps = 0;
    exp.draft!.domains[1]!.role = 'monitor';
    exp.draft!.domains[1]!.reference = { kind: 'absolute', loss: 2 };
    exp.draft!.domains[0]!.role = 'monitor';
    expect(await exp.validate()).toBe(false);
    expect(exp.errorsAt('training.steps')).toEqual([expect.stringMatching(/^training\.steps must be at least 1/)]);
    expect(exp.errorsAt('training.batchSize')).toEqual([]);
    // Cross-field problems wait until every field is valid on its own.
    exp.draft!.training.steps = 64;
    await exp.validate();
    expect(exp.errorsAt('domains')).toEqual([expect.stringContaining('at least one domain with role "target"')]);
    expect(exp.errorsAt('domains[1].reference')).toEqual([expect.stringContaining('only on a constraint')]);
    exp.setRole(exp.draft!.domains[1]!, 'constraint');
    exp.setRole(exp.draft!.domains[0]!, 'target');
    exp.draft!.sources[0]!.dataset = 'no-such-dataset';
    await exp.validate();
    expect(exp.errorsAt('sources[0].dataset')).toEqual([expect.stringContaining('neither an imported dataset nor a file')]);
    expect(exp.errors).toHaveLength(1);
  });

  it('saves as YAML and JSON through the core and loads them back; a broken file still fills the form', async () => {
    const ctx = storeContext(api);
    const exp = ctx.run(() => useExperimentStore());
    await exp.loadDefaults();
    exp.draft!.training.learningRate = 0.0007;
    const yaml = await exp.serialize('yaml');
    expect(yaml?.fileName).toMatch(/\.ya?ml$/);
    expect(yaml?.text).toContain('learningRate: 0.0007');
    const json = await exp.serialize('json');
    expect(JSON.parse(json!.text).training.learningRate).toBe(0.0007);
    exp.resetToDefaults();
    expect(exp.draft!.training.learningRate).not.toBe(0.0007);
    expect(await exp.loadText(yaml!.text, 'yaml', 'exp.yaml')).toBe(true);
    expect(exp.draft!.training.learningRate).toBe(0.0007);
    expect(exp.fileNotice).toBe('Loaded exp.yaml.');

    const broken = yaml!.text.replace(/steps: \d+/, 'steps: -5');
    expect(await exp.loadText(broken, 'yaml', 'broken.yaml')).toBe(true);
    expect(exp.draft!.training.steps).toBe(-5);
    expect(exp.fileNotice).toMatch(/broken\.yaml with 1 problem/);
    expect(exp.errorsAt('training.steps')).toHaveLength(1);

    expect(await exp.loadText('{ "training": ', 'json', 'cut.json')).toBe(false);
    expect(exp.fileError).toMatch(/^cut\.json: .*1:\d+/);
  });
});

describe('experiment view', () => {
  it('shows the message beside the field, blocks Start until fixed, and wires a dataset in one click', async () => {
    const { wrapper } = await mountView(ExperimentView, api);
    await until(() => wrapper.get('[data-testid="experiment-problems"]').text().includes('Ready to run') && wrapper.find('[data-testid="plan-cost"]').exists());
    expect(wrapper.get('[data-testid="experiment-problems"]').text()).toContain('Ready to run');
    expect(wrapper.findAll('[data-testid^="domain-row-"]')).toHaveLength(4);
    expect(wrapper.get('[data-testid="plan-cost"]').text()).toMatch(/^\d+\.\d\d×$/);

    await wrapper.get('[data-testid="field-training.steps"]').setValue('0');
    await until(() => wrapper.find('[data-testid="error-training.steps"]').exists());
    const error = wrapper.get('[data-testid="error-training.steps"]');
    expect(error.text()).toMatch(/training\.steps must be at least 1/);
    // Beside the field: the message lives in the same field block as the input, tied by aria-describedby.
    const field = error.element.closest('.field')!;
    const input = field.querySelector('input')!;
    expect(input.getAttribute('data-testid')).toBe('field-training.steps');
    expect(input.getAttribute('aria-invalid')).toBe('true');
    expect(input.getAttribute('aria-describedby')).toContain(error.element.parentElement!.id);
    expect(wrapper.get('[data-testid="experiment-problems"]').text()).toContain('1 problem to fix');

    await wrapper.get('[data-testid="experiment-start"]').trigger('click');
    await until(() => wrapper.find('[data-testid="experiment-start-error"]').exists());
    expect(wrapper.get('[data-testid="experiment-start-error"]').text()).toBe('fix the problem marked in the form first');

    await wrapper.get('[data-testid="field-training.steps"]').setValue('64');
    await wrapper.get('[data-testid="quick-add-dataset"]').setValue('bundled:arithmetic');
    await wrapper.get('[data-testid="quick-add-role"]').setValue('monitor');
    await wrapper.get('[data-testid="quick-add"]').trigger('click');
    // Adding a dataset (or pressing Enter in a field) never starts a run.
    await until(() => !wrapper.find('[data-testid="error-training.steps"]').exists() && wrapper.find('[data-testid="field-domains[4].id"]').exists());
    expect(wrapper.find('[data-testid="error-training.steps"]').exists()).toBe(false);
    expect(wrapper.get('[data-testid="field-domains[4].id"]').element).toHaveProperty('value', 'arithmetic');
    expect(wrapper.get('[data-testid="field-domains[4].role"]').element).toHaveProperty('value', 'monitor');
    expect(wrapper.get('[data-testid="field-sources[3].dataset"]').element).toHaveProperty('value', 'bundled:arithmetic');

    // A constraint's reference: base loss by default, or an override with its own field.
    await wrapper.get('[data-testid="field-domains[1].reference.kind"]').setValue('relative');
    await until(() => wrapper.find('[data-testid="field-domains[1].reference.tolerance"]').exists());
    await wrapper.get('[data-testid="field-domains[1].reference.tolerance"]').setValue('-5');
    await until(() => wrapper.find('[data-testid="error-domains[1].reference.tolerance"]').exists());
    expect(wrapper.get('[data-testid="error-domains[1].reference.tolerance"]').text()).toContain('domains[1].reference.tolerance must be at least -0.99');

    // Save as YAML: the core serializes, the page downloads.
    const saved: string[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      saved.push(this.download);
    });
    await wrapper.get('[data-testid="field-domains[1].reference.tolerance"]').setValue('0.02');
    await wrapper.get('[data-testid="experiment-save-yaml"]').trigger('click');
    await until(() => saved.length > 0);
    expect(saved).toEqual([expect.stringMatching(/\.ya?ml$/)]);
    await wrapper.get('[data-testid="field-training.steps"]').trigger('keydown', { key: 'Enter' });
    expect((await api.runs.list()).total).toBe(0);
    wrapper.unmount();
  });

  it('chooses per source what a row does with a longer example: cut from the left by default, drop, or cut from the right', async () => {
    const { wrapper, pinia } = await mountView(ExperimentView, api);
    await until(() => wrapper.get('[data-testid="experiment-problems"]').text().includes('Ready to run'));
    const exp = useExperimentStore(pinia);
    const select = wrapper.get('[data-testid="field-sources[0].truncation"]');
    expect(select.element).toHaveProperty('value', 'left');
    expect(exp.draft!.sources[0]!.truncation).toBeUndefined();
    await select.setValue('drop');
    expect(exp.draft!.sources[0]!.truncation).toBe('drop');
    await until(() => wrapper.get('[data-testid="experiment-problems"]').text().includes('Ready to run'));
    await select.setValue('left');
    expect(exp.draft!.sources[0]!.truncation).toBeUndefined();
    wrapper.unmount();
  });

  it('offers each controller option with its setting, counts them, and goes paper-exact and back in one click', async () => {
    const { wrapper, pinia } = await mountView(ExperimentView, api);
    await until(() => wrapper.get('[data-testid="experiment-problems"]').text().includes('Ready to run'));
    const exp = useExperimentStore(pinia);
    const count = () => wrapper.get('[data-testid="beyond-count"]').text();
    const checked = (f: string) => (wrapper.get(`[data-testid="field-beyondPaper.${f}.enabled"]`).element as HTMLInputElement).checked;
    const value = (f: string) => (wrapper.get(`[data-testid="field-beyondPaper.${f}"]`).element as HTMLInputElement).value;
    // The product default: every option but backtracking, each with its setting beside it.
    expect(count()).toBe('(5 of 6 on, the defaults)');
    expect(['localSlopes', 'noiseAwareMargin', 'calibration', 'progressFallback'].map(checked)).toEqual([true, true, true, true]);
    expect(checked('backtracking')).toBe(false);
    expect(value('smoothing.kind')).toBe('trust-region');
    expect([value('localSlopes.epsilon'), value('smoothing.radius'), value('noiseAwareMargin.k'), value('calibration.prior'), value('progressFallback.standardErrors')]).toEqual(['0.5', '0.5', '1', '1', '1']);
    expect(wrapper.get('[data-testid="experiment-training"]').text()).toContain('Directional probes');
    expect(wrapper.get('[data-testid="beyond-defaults"]').attributes('disabled')).toBeDefined();

    await wrapper.get('[data-testid="beyond-paper-exact"]').trigger('click');
    await until(() => count().includes('all off'));
    expect(count()).toBe("(all off: the paper's method exactly)");
    expect(exp.draft!.beyondPaper).toEqual(paperExactOptions(beyondPaperSchema.parse({})));
    expect(['localSlopes', 'noiseAwareMargin', 'calibration', 'progressFallback', 'backtracking'].map(checked)).toEqual([false, false, false, false, false]);
    expect(value('smoothing.kind')).toBe('none');
    expect(wrapper.find('[data-testid="field-beyondPaper.localSlopes.epsilon"]').exists()).toBe(false);
    expect(wrapper.find('[data-testid="beyond-paper-exact-note"]').exists()).toBe(true);
    expect(wrapper.get('[data-testid="beyond-paper-exact"]').attributes('disabled')).toBeDefined();
    await until(() => wrapper.get('[data-testid="experiment-problems"]').text().includes('Ready to run'));
    expect((await exp.serialize('json'))!.text).toContain('"localSlopes": {\n      "enabled": false');

    // One option back on, with its own setting; a bad setting is named beside its field.
    await wrapper.get('[data-testid="field-beyondPaper.calibration.enabled"]').setValue(true);
    await until(() => wrapper.find('[data-testid="field-beyondPaper.calibration.prior"]').exists());
    expect(count()).toBe('(1 of 6 on)');
    await wrapper.get('[data-testid="field-beyondPaper.calibration.prior"]').setValue('3');
    expect(exp.draft!.beyondPaper.calibration).toEqual({ enabled: true, prior: 3 });
    await wrapper.get('[data-testid="field-beyondPaper.noiseAwareMargin.enabled"]').setValue(true);
    await until(() => wrapper.find('[data-testid="field-beyondPaper.noiseAwareMargin.k"]').exists());
    await wrapper.get('[data-testid="field-beyondPaper.noiseAwareMargin.k"]').setValue('-1');
    await until(() => wrapper.find('[data-testid="error-beyondPaper.noiseAwareMargin.k"]').exists());
    expect(wrapper.get('[data-testid="error-beyondPaper.noiseAwareMargin.k"]').text()).toContain('beyondPaper.noiseAwareMargin.k must be at least 0');
    await wrapper.get('[data-testid="field-beyondPaper.smoothing.kind"]').setValue('ema');
    await until(() => wrapper.find('[data-testid="field-beyondPaper.smoothing.decay"]').exists());
    expect(count()).toBe('(3 of 6 on)');

    await wrapper.get('[data-testid="beyond-defaults"]').trigger('click');
    await until(() => count() === '(5 of 6 on, the defaults)');
    expect(exp.draft!.beyondPaper).toEqual(beyondPaperSchema.parse({}));
    await until(() => !wrapper.find('[data-testid="error-beyondPaper.noiseAwareMargin.k"]').exists());
    wrapper.unmount();
  });
});
