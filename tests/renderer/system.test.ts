import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { describe, expect, it } from 'vitest';
import { createApp } from 'vue';
import { createCore } from '../../src/main/bootstrap';
import { API_KEY, createApi } from '../../src/renderer/src/api';
import { useSystemStore } from '../../src/renderer/src/stores/system';
import SystemView from '../../src/renderer/src/views/SystemView.vue';
import { coreTransport } from '../helpers/core-transport';
import { tempDir } from '../helpers/temp';

describe('system store and view', () => {
  const dataDir = tempDir();
  const core = createCore({ dataDir });
  const api = createApi(coreTransport(core));

  it('loads system info from the real core', async () => {
    const app = createApp({});
    app.provide(API_KEY, api);
    const pinia = createPinia();
    app.use(pinia);
    setActivePinia(pinia);
    const store = app.runWithContext(() => useSystemStore());
    await store.load();
    expect(store.error).toBeNull();
    expect(store.info?.dataDir).toBe(dataDir);
    expect(store.device).toBe('CPU');
  });

  it('renders versions and the reason CUDA is unavailable', async () => {
    const pinia = createPinia();
    const wrapper = mount(SystemView, { global: { plugins: [pinia], provide: { [API_KEY as symbol]: api } } });
    setActivePinia(pinia);
    await useSystemStore().load();
    await flushPromises();
    expect(wrapper.get('[data-testid="ort-version"]').text()).toBe('1.29.0');
    expect(wrapper.get('[data-testid="provider-cpu"]').text()).toContain('CPU usable');
    expect(wrapper.get('[data-testid="provider-cuda"]').text()).toMatch(/CUDA (usable|unavailable)/);
  });

  it('shows an error instead of crashing when the core refuses', async () => {
    const failing = createApi({
      call: async () => ({ ok: false, error: { name: 'Unauthorized', message: 'a valid token is required' } }),
      onEvent: () => () => {},
    });
    const pinia = createPinia();
    const wrapper = mount(SystemView, { global: { plugins: [pinia], provide: { [API_KEY as symbol]: failing } } });
    setActivePinia(pinia);
    await useSystemStore().load();
    await flushPromises();
    expect(wrapper.get('[role="alert"]').text()).toBe('a valid token is required');
  });
});
