// Renderer test setup: a real core in a temp folder, the renderer's API facade wired to it in
// process (tests/helpers/core-transport), Pinia, a memory router, and charts drawn with ECharts'
// SVG renderer at a fixed size (happy-dom has neither canvas nor layout).
import { flushPromises, mount } from '@vue/test-utils';
import { symlinkSync } from 'node:fs';
import path from 'node:path';
import { createPinia, setActivePinia, type Pinia } from 'pinia';
import { afterAll } from 'vitest';
import { createApp, defineComponent, type Component } from 'vue';
import { createMemoryHistory, createRouter, type Router } from 'vue-router';
import { createCore, type Core, type CoreOptions } from '../../src/main/bootstrap';
import { resourcesDir } from '../../src/main/paths';
import { API_KEY, createApi, type Api } from '../../src/renderer/src/api';
import { CHART_ENV_KEY } from '../../src/renderer/src/charts/renderer';
import { coreTransport } from '../helpers/core-transport';
import { tempDir } from '../helpers/temp';
import { writeTinyModel } from '../main/runner/tiny-fixtures';

export interface TestCore {
  core: Core;
  api: Api;
}

/** One core per test file, closed when the file ends. */
export function testCore(options: Partial<CoreOptions> = {}): TestCore {
  const core = createCore({ dataDir: tempDir('dynamics-renderer-'), ...options });
  afterAll(() => core.close());
  return { core, api: createApi(coreTransport(core)) };
}

/** A fresh Pinia whose stores reach `api` (stores call useApi() inside the app's context). */
export function storeContext(api: Api): { pinia: Pinia; run<T>(fn: () => T): T } {
  // eslint-disable-next-line vue/one-component-per-file -- a bare app, only to give stores an injection context
  const app = createApp({});
  app.provide(API_KEY, api);
  const pinia = createPinia();
  app.use(pinia);
  setActivePinia(pinia);
  return { pinia, run: (fn) => app.runWithContext(fn) };
}

export function testRouter(path = '/'): Router {
  // eslint-disable-next-line vue/one-component-per-file -- every route renders nothing: the view under test is mounted directly
  const blank = defineComponent({ render: () => null });
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/:any(.*)*', component: blank }] });
  void router.push(path);
  return router;
}

/** Mounts a view with the API, Pinia, a router at `path`, and SVG charts. */
export async function mountView(component: Component, api: Api, options: { pinia?: Pinia; path?: string; props?: Record<string, unknown> } = {}) {
  const pinia = options.pinia ?? storeContext(api).pinia;
  const router = testRouter(options.path ?? '/');
  await router.isReady();
  const wrapper = mount(component, {
    props: options.props,
    attachTo: document.body,
    global: {
      plugins: [pinia, router],
      provide: { [API_KEY as symbol]: api, [CHART_ENV_KEY as symbol]: { renderer: 'svg', width: 640, height: 300 } },
    },
  });
  await settle();
  return { wrapper, router, pinia };
}

/** Lets pending calls to the core, Vue updates and chart renders finish. */
export async function settle(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await flushPromises();
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * A resources folder like the installed app's, with one bundled model: a tiny random-init Llama
 * (tests/main/runner/tiny-fixtures) as `bundled:tiny`, and the real bundled corpora and tokenizer.
 */
export function tinyResources(): string {
  const dir = tempDir('dynamics-resources-');
  writeTinyModel(path.join(dir, 'models', 'tiny'));
  for (const name of ['corpora', 'tokenizer']) symlinkSync(path.join(resourcesDir(), name), path.join(dir, name), 'dir');
  return dir;
}

/** Waits until `check` holds (work in the core — tokenizers, sessions — takes a moment). */
export async function until(check: () => boolean, ms = 20_000): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > ms) throw new Error(`condition not met within ${ms} ms`);
    await settle(1);
  }
}
