// Models against a real core: the bundled tiny model, importing a Hugging Face folder with
// progress, problems in words for a broken one, details with a memory estimate.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useModelsStore } from '../../src/renderer/src/stores/models';
import ModelsView from '../../src/renderer/src/views/ModelsView.vue';
import { tempDir } from '../helpers/temp';
import { writeTinyModel } from '../main/runner/tiny-fixtures';
import { mountView, storeContext, testCore, tinyResources, until } from './setup';

const { api } = testCore({ resourcesDir: tinyResources() });
const dir = tempDir('dynamics-models-');

describe('models store', () => {
  it('lists the bundled model and reads its architecture, size and a memory estimate', async () => {
    const ctx = storeContext(api);
    const models = ctx.run(() => useModelsStore());
    await models.load();
    expect(models.error).toBeNull();
    expect(models.list.map((m) => `${m.id}:${m.origin}`)).toEqual(['bundled:tiny:bundled']);
    expect(models.selectedId).toBe('bundled:tiny');
    await models.loadDetails();
    const d = models.details!;
    expect(d.architecture).toBe('LlamaForCausalLM');
    expect(d.shape.layers).toBe(2);
    expect(d.parameters).toBeGreaterThan(100_000);
    const small = d.training.totalBytes;
    models.estimate.seqLen = 1024;
    await models.loadDetails();
    expect(models.details!.training.seqLen).toBe(1024);
    expect(models.details!.training.totalBytes).toBeGreaterThan(small);
  });

  it('imports a folder with progress events, and refuses a broken one in words', async () => {
    const ctx = storeContext(api);
    const models = ctx.run(() => useModelsStore());
    const phases: string[] = [];
    const off = api.on('model.import.progress', (p) => phases.push(p.phase));
    const m = await models.importFolder(writeTinyModel(path.join(dir, 'my-llama'), { hidden: 16, layers: 1 }), 'My Llama');
    off();
    expect(models.importError).toBeNull();
    expect(m?.name).toBe('My Llama');
    expect(m?.origin).toBe('imported');
    expect(phases).toContain('done');
    expect(models.selectedId).toBe(m!.id);
    expect(models.details?.shape.layers).toBe(1);

    const broken = path.join(dir, 'broken');
    mkdirSync(broken);
    writeFileSync(path.join(broken, 'config.json'), '{\n  "model_type": "llama",\n  "hidden_size": \n}');
    expect(await models.importFolder(broken)).toBeNull();
    expect(models.importError).toMatch(/config\.json/);
    expect(models.importing).toBe(false);

    await models.remove(m!.id);
    expect(models.list.some((x) => x.id === m!.id)).toBe(false);
  });
});

describe('models view', () => {
  it('shows the bundled model, its details and memory, and an import error beside the form', async () => {
    const { wrapper } = await mountView(ModelsView, api);
    await until(() => wrapper.find('[data-testid="model-memory-total"]').exists());
    expect(wrapper.get('[data-testid="model-row-bundled:tiny"]').text()).toContain('bundled demo');
    expect(wrapper.get('[data-testid="model-architecture"]').text()).toBe('LlamaForCausalLM');
    expect(wrapper.get('[data-testid="model-memory-total"]').text()).toMatch(/\d+(\.\d)? (B|KiB|MiB|GiB)/);
    expect(wrapper.find('[data-testid="model-remove"]').exists()).toBe(false);
    await wrapper.get('[data-testid="model-import-path-input"]').setValue(path.join(dir, 'nowhere'));
    await wrapper.get('[data-testid="model-import"]').trigger('click');
    await until(() => wrapper.find('[data-testid="model-import-error"]').exists());
    expect(wrapper.get('[data-testid="model-import-error"]').text()).toMatch(/nowhere/);
    wrapper.unmount();
  });
});
