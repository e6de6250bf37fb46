// Try: the generate store streams a real generation (ONNX Runtime, the bundled tiny model) from
// generate.token events, stops on request, and shows refusals in words.
import { describe, expect, it } from 'vitest';
import { useGenerateStore } from '../../src/renderer/src/stores/generate';
import TryView from '../../src/renderer/src/views/TryView.vue';
import { seedRun } from './seed';
import { mountView, settle, storeContext, testCore, tinyResources, until } from './setup';

const { core, api } = testCore({ resourcesDir: tinyResources() });


describe('generate store', () => {
  it('streams the base model’s reply token by token until its limit', async () => {
    const ctx = storeContext(api);
    const gen = ctx.run(() => useGenerateStore());
    gen.modelId = 'bundled:tiny';
    gen.prompt = 'The quick brown fox';
    gen.settings.maxTokens = 12;
    const lengths: number[] = [];
    const off = api.on('generate.token', () => lengths.push(gen.panes.base.text.length));
    await gen.start();
    await until(() => !gen.running);
    off();
    expect(gen.panes.base.error).toBeNull();
    expect(gen.panes.base.done?.tokens).toBeGreaterThan(0);
    expect(['length', 'eos']).toContain(gen.panes.base.done?.reason);
    expect(gen.panes.base.text.length).toBeGreaterThan(0);
    expect(lengths.length).toBeGreaterThan(1);
    expect(gen.panes.adapter.requestId).toBeNull();
  });

  it('stops a long generation, and shows why an adapter cannot be used', async () => {
    const ctx = storeContext(api);
    const gen = ctx.run(() => useGenerateStore());
    gen.modelId = 'bundled:tiny';
    gen.prompt = 'Once upon a time';
    gen.settings.maxTokens = 4000;
    gen.adapterRunId = seedRun(core, { name: 'no-checkpoints' });
    await gen.start();
    await until(() => gen.panes.base.text.length > 0 || !gen.running);
    await gen.stop();
    await until(() => !gen.running);
    expect(gen.panes.base.done?.reason).toBe('cancelled');
    expect(gen.panes.base.done!.tokens).toBeLessThan(4000);
    expect(gen.panes.adapter.error).toMatch(/checkpoint/);
  });

  it('asks for a prompt before starting', async () => {
    const ctx = storeContext(api);
    const gen = ctx.run(() => useGenerateStore());
    gen.modelId = 'bundled:tiny';
    await gen.start();
    expect(gen.error).toBe('write a prompt first');
  });
});

describe('try view', () => {
  it('generates into the base pane with Ctrl+Enter', async () => {
    const { wrapper } = await mountView(TryView, api);
    await settle(3);
    expect(wrapper.get('[data-testid="try-model"]').element).toHaveProperty('value', 'bundled:tiny');
    await wrapper.get('[data-testid="try-max-tokens"]').setValue('6');
    await wrapper.get('[data-testid="try-prompt"]').setValue('Hello');
    await wrapper.get('[data-testid="try-prompt"]').trigger('keydown', { key: 'Enter', ctrlKey: true });
    await until(() => wrapper.find('[data-testid="try-done-base"]').exists() || wrapper.find('[data-testid="try-pane-base"] [role="alert"]').exists());
    await settle();
    expect(wrapper.get('[data-testid="try-done-base"]').text()).toMatch(/tokens in .* s/);
    expect(wrapper.get('[data-testid="try-output-base"]').text().length).toBeGreaterThan(0);
    expect(wrapper.get('[data-testid="try-output-adapter"]').text()).toContain('Choose a run above');
    wrapper.unmount();
  });
});
