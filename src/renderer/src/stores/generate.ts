// The generate noun (the Try view): one prompt sent to the base model and to a run's adapter side
// by side, each reply streamed token by token from generate.token events, with a stop button.
// Events may arrive before generate.start has answered with the request id, so they are buffered
// by id until the id is known.
import { defineStore } from 'pinia';
import { computed, reactive, ref, shallowRef } from 'vue';
import type { EventMap } from '../../../shared/events';
import type { RunSummary } from '../../../shared/runs';
import { useApi } from '../api';
import { errorMessage } from '../format';

export type PaneName = 'base' | 'adapter';
export type DoneInfo = EventMap['generate.done'];

export interface Pane {
  requestId: string | null;
  text: string;
  running: boolean;
  done: DoneInfo | null;
  error: string | null;
}

export interface GenerateSettings {
  maxTokens: number;
  temperature: number;
  topP: number;
  topK: number;
  seed: number;
  chat: boolean;
}

function emptyPane(): Pane {
  return { requestId: null, text: '', running: false, done: null, error: null };
}

export const useGenerateStore = defineStore('generate', () => {
  const api = useApi();
  const modelId = ref<string | null>(null);
  const adapterRunId = ref<number | null>(null);
  const prompt = ref('');
  const settings = ref<GenerateSettings>({ maxTokens: 128, temperature: 0, topP: 1, topK: 0, seed: 0, chat: false });
  const panes = reactive<Record<PaneName, Pane>>({ base: emptyPane(), adapter: emptyPane() });
  const adapterRuns = shallowRef<RunSummary[]>([]);
  const error = ref<string | null>(null);

  const running = computed(() => panes.base.running || panes.adapter.running);

  // Events for ids not (yet) attached to a pane.
  const early = new Map<string, { text: string[]; done: DoneInfo | null }>();
  let unsubscribe: (() => void) | null = null;

  function paneOf(requestId: string): Pane | null {
    if (panes.base.requestId === requestId) return panes.base;
    if (panes.adapter.requestId === requestId) return panes.adapter;
    return null;
  }
  function finish(pane: Pane, done: DoneInfo): void {
    pane.done = done;
    pane.running = false;
    if (done.reason === 'error') pane.error = done.message ?? 'generation failed';
    if (!running.value) stopListening();
  }

  function listen(): void {
    if (unsubscribe) return;
    const offToken = api.on('generate.token', (t) => {
      const pane = paneOf(t.requestId);
      if (pane) pane.text += t.text;
      else {
        const e = early.get(t.requestId) ?? { text: [], done: null };
        e.text.push(t.text);
        early.set(t.requestId, e);
      }
    });
    const offDone = api.on('generate.done', (d) => {
      const pane = paneOf(d.requestId);
      if (pane) finish(pane, d);
      else {
        const e = early.get(d.requestId) ?? { text: [], done: null };
        e.done = d;
        early.set(d.requestId, e);
      }
    });
    unsubscribe = () => {
      offToken();
      offDone();
    };
  }
  function stopListening(): void {
    unsubscribe?.();
    unsubscribe = null;
    early.clear();
  }

  async function loadAdapterRuns(): Promise<void> {
    try {
      const page = await api.runs.list({ sort: 'createdAt', direction: 'desc' });
      adapterRuns.value = page.runs.filter((r) => (r.lastStep ?? 0) > 0);
    } catch (err) {
      error.value = errorMessage(err);
    }
  }

  async function startPane(name: PaneName): Promise<void> {
    const pane = panes[name];
    Object.assign(pane, emptyPane(), { running: true });
    const s = settings.value;
    try {
      const { requestId } = await api.generate.start({
        modelId: modelId.value!,
        ...(name === 'adapter' ? { adapterRunId: adapterRunId.value! } : {}),
        prompt: prompt.value,
        chat: s.chat,
        maxTokens: s.maxTokens,
        temperature: s.temperature,
        topP: s.topP,
        topK: s.topK,
        seed: s.seed,
      });
      pane.requestId = requestId;
      const e = early.get(requestId);
      if (e) {
        early.delete(requestId);
        pane.text += e.text.join('');
        if (e.done) finish(pane, e.done);
      }
    } catch (err) {
      pane.running = false;
      pane.error = errorMessage(err);
    }
  }

  /** Starts the base model, and the adapter when a run is chosen. */
  async function start(): Promise<void> {
    error.value = null;
    if (!modelId.value) {
      error.value = 'choose a base model first';
      return;
    }
    if (!prompt.value.trim()) {
      error.value = 'write a prompt first';
      return;
    }
    listen();
    const jobs = [startPane('base')];
    if (adapterRunId.value !== null) jobs.push(startPane('adapter'));
    else Object.assign(panes.adapter, emptyPane());
    await Promise.all(jobs);
    if (!running.value) stopListening();
  }

  async function stop(): Promise<void> {
    await Promise.all(
      (['base', 'adapter'] as const).map(async (n) => {
        const p = panes[n];
        if (p.running && p.requestId) await api.generate.cancel({ requestId: p.requestId }).catch(() => undefined);
      }),
    );
  }

  return { modelId, adapterRunId, prompt, settings, panes, adapterRuns, error, running, loadAdapterRuns, start, stop, stopListening };
});
