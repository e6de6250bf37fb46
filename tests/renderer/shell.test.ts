// The shell: the theme switch reaches the document and the charts, "g then a letter" moves between
// views, and the sidebar marks the section of nested routes (a run belongs to Runs).
/* eslint-disable vue/one-component-per-file -- route stubs and a two-part host are built inline here */
import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import { defineComponent, h } from 'vue';
import { createMemoryHistory, createRouter } from 'vue-router';
import App from '../../src/renderer/src/App.vue';
import { API_KEY } from '../../src/renderer/src/api';
import Chart from '../../src/renderer/src/charts/Chart.vue';
import { heatmapOption } from '../../src/renderer/src/charts/options/heatmap';
import { chartColors } from '../../src/renderer/src/charts/palette';
import { CHART_ENV_KEY } from '../../src/renderer/src/charts/renderer';
import { navigation } from '../../src/renderer/src/router';
import { usePreferencesStore } from '../../src/renderer/src/stores/preferences';
import { settle, storeContext, testCore, until } from './setup';

const { api } = testCore();

function shellRouter() {
  const stub = (name: string) => defineComponent({ name, render: () => h('h1', name) });
  return createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/', redirect: '/experiment' },
      ...navigation.map((n) => ({ path: n.path, name: n.name, component: stub(n.title) })),
      { path: '/runs/:id', name: 'run', component: stub('Run') },
    ],
  });
}

describe('shell', () => {
  it('switches theme on the document, remembers it, and redraws charts in it', async () => {
    localStorage.setItem('dynamics.theme', 'light');
    const ctx = storeContext(api);
    const router = shellRouter();
    await router.push('/experiment');
    const wrapper = mount(
      defineComponent({
        render: () => [h(App), h(Chart, { option: heatmapOption({ slopes: [[-0.01, 0.02]], domains: [{ id: 'code', role: 'target' }], sources: ['a', 'b'] }, 'light'), label: 'slopes' })],
      }),
      { attachTo: document.body, global: { plugins: [ctx.pinia, router], provide: { [API_KEY as symbol]: api, [CHART_ENV_KEY as symbol]: { renderer: 'svg', width: 400, height: 200 } } } },
    );
    await until(() => wrapper.find('svg').exists() && wrapper.get('[data-testid="status-bar"]').text().includes('ORT'));
    const prefs = ctx.run(() => usePreferencesStore());
    expect(prefs.theme).toBe('light');
    expect(document.documentElement.dataset.theme).toBe('light');
    const axisText = () => wrapper.findAll('svg text').map((t) => t.attributes('fill')).filter(Boolean);
    const darkMuted = chartColors('dark').muted;
    expect(axisText()).not.toContain(darkMuted);
    await wrapper.get('[data-testid="theme-toggle"]').trigger('click');
    await settle(3);
    const after = 'dark';
    expect(prefs.theme).toBe(after);
    expect(document.documentElement.dataset.theme).toBe(after);
    expect(localStorage.getItem('dynamics.theme')).toBe(after);
    await until(() => axisText().includes(chartColors(after).muted));
    wrapper.unmount();
  });

  it('moves between views with g then a letter, but not while typing', async () => {
    const ctx = storeContext(api);
    const router = shellRouter();
    await router.push('/experiment');
    const wrapper = mount(App, { attachTo: document.body, global: { plugins: [ctx.pinia, router], provide: { [API_KEY as symbol]: api } } });
    await settle();
    const key = (k: string, target: EventTarget = window) => target.dispatchEvent(new KeyboardEvent('keydown', { key: k, bubbles: true }));
    key('g');
    key('r');
    await until(() => router.currentRoute.value.path === '/runs');
    expect(wrapper.get('[data-testid="nav-runs"]').classes()).toContain('active');
    expect(wrapper.get('[data-testid="nav-runs"]').attributes('aria-current')).toBe('page');
    await router.push('/runs/7');
    await settle();
    expect(wrapper.get('[data-testid="nav-runs"]').classes()).toContain('active');
    const input = document.createElement('input');
    document.body.appendChild(input);
    key('g', input);
    key('m', input);
    await settle();
    expect(router.currentRoute.value.path).toBe('/runs/7');
    input.remove();
    wrapper.unmount();
  });
});
