// The chart wrapper: draws with the real ECharts (its SVG renderer: happy-dom has no canvas),
// follows the theme, and saves itself as an image through a download link.
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, describe, expect, it, vi } from 'vitest';
import Chart from '../../src/renderer/src/charts/Chart.vue';
import { heatmapOption } from '../../src/renderer/src/charts/options/heatmap';
import { CHART_ENV_KEY } from '../../src/renderer/src/charts/renderer';
import { usePreferencesStore } from '../../src/renderer/src/stores/preferences';

afterEach(() => vi.restoreAllMocks());

describe('Chart', () => {
  it('renders an ECharts heatmap and saves it as an image', async () => {
    const pinia = createPinia();
    setActivePinia(pinia);
    const clicks: { href: string; download: string }[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicks.push({ href: this.href, download: this.download });
    });
    const option = heatmapOption({ slopes: [[-0.01, 0.02]], domains: [{ id: 'code', role: 'target' }], sources: ['a', 'b'] }, 'light');
    const wrapper = mount(Chart, {
      props: { option, label: 'slopes', fileName: 'slopes', saveTestid: 'save' },
      attachTo: document.body,
      global: { plugins: [pinia], provide: { [CHART_ENV_KEY as symbol]: { renderer: 'svg', width: 600, height: 300 } } },
    });
    await flushPromises();
    await new Promise((r) => setTimeout(r, 50));
    expect(wrapper.get('[role="img"]').attributes('aria-label')).toBe('slopes');
    expect(wrapper.html()).toContain('<svg');
    await wrapper.get('[data-testid="save"]').trigger('click');
    expect(clicks).toHaveLength(1);
    expect(clicks[0]!.download).toBe('slopes.svg');
    expect(clicks[0]!.href).toMatch(/^data:image\/svg\+xml/);
    usePreferencesStore().setTheme('dark');
    await flushPromises();
    wrapper.unmount();
  });
});
