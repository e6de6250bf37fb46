// generate.*: streamed generation on the real engine from the tiny bundled model, and from a run's
// adapter read back from a checkpoint written by the store. The adapter's flat layout must be the
// engine's (the train graph's trainable order), so tensors land on the right modules.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTokenizer } from '../../../src/main/data/tokenizer';
import { Generator } from '../../../src/main/engine/generate/generator';
import { buildGraph } from '../../../src/main/engine/graphs';
import { loadModelFolder, type ModelFolder } from '../../../src/main/engine/hf/folder';
import { loraParameterShapes } from '../../../src/main/engine/hf/peft';
import { OrtRuntime } from '../../../src/main/engine/runtime/ort-runtime';
import { FlatLayout } from '../../../src/main/engine/train/flat-params';
import { Rng } from '../../../src/main/engine/train/rng';
import { CheckpointFiles } from '../../../src/main/store/checkpoints';
import { parseRunConfig } from '../../../src/shared/run-config';
import type { EventMap } from '../../../src/shared/events';
import { testCore } from './helpers';

const ADAPTER = { kind: 'lora', r: 4, alpha: 8, targetModules: ['q_proj', 'v_proj'] } as const;

type Done = EventMap['generate.done'];

describe('generate service', () => {
  const core = testCore({ model: 'tiny' });
  let folder: ModelFolder;
  let layout: FlatLayout;

  beforeAll(() => {
    folder = loadModelFolder(path.join(core.resources, 'models', 'tiny'));
    layout = new FlatLayout(loraParameterShapes(folder.config.model, { ...ADAPTER, targetModules: [...ADAPTER.targetModules] }));
  });
  afterAll(() => folder.close());

  /** Starts a request and collects its events until done. */
  async function generate(input: Record<string, unknown>): Promise<{ text: string; done: Done; tokens: number }> {
    const parts: string[] = [];
    let requestId = '';
    let resolve!: (d: Done) => void;
    const finished = new Promise<Done>((r) => (resolve = r));
    const off = core.bus.subscribe((e) => {
      const p = e.payload as { requestId?: string };
      if (p.requestId !== requestId) return;
      if (e.event === 'generate.token') parts.push((e.payload as EventMap['generate.token']).text);
      if (e.event === 'generate.done') resolve(e.payload as Done);
    });
    requestId = (await core.call<{ requestId: string }>('generate.start', input)).requestId;
    const done = await finished;
    off();
    return { text: parts.join(''), done, tokens: parts.length };
  }

  /** The same generation straight on the engine (greedy). */
  async function direct(prompt: string, maxNewTokens: number, tensors?: Map<string, Float32Array>): Promise<string> {
    const tok = await loadTokenizer(folder.dir);
    const g = await Generator.create({
      runtime: new OrtRuntime(), cacheDir: core.layout.graphCache,
      model: { config: folder.config.model, weights: folder.weights, weightsKey: folder.weightsKey },
      ...(tensors ? { adapter: { adapter: { ...ADAPTER, targetModules: [...ADAPTER.targetModules] }, tensors } } : {}),
    });
    try {
      const stop = [...new Set([...folder.generation.eosTokenIds, tok.eosId])];
      const r = await g.generate([...tok.prefix, ...tok.encode(prompt)], { maxNewTokens, temperature: 0, stopTokens: stop });
      return tok.decode(r.tokens.filter((t) => !stop.includes(t)));
    } finally {
      await g.release();
    }
  }

  /** A run of the tiny model whose checkpoint at step 8 holds `flat` as its adapter. */
  function runWithAdapter(flat: Float32Array): number {
    const config = parseRunConfig({
      name: 'adapter run', model: { path: 'bundled:tiny', adapter: { kind: 'lora', rank: 4, alpha: 8, targets: ['q_proj', 'v_proj'] } },
      sources: [{ id: 'code', dataset: 'bundled:code' }], domains: [{ id: 'code', dataset: 'bundled:code', role: 'target' }],
    });
    const runId = core.store.runs.create({ name: 'adapter run', config, strategy: 'dynamics', seed: 0, sources: ['code'], domains: [{ id: 'code', role: 'target' }] });
    const zeros = new Float32Array(flat.length);
    new CheckpointFiles(core.layout.runs).save(core.store.writerFor(runId), {
      step: 8, meta: { format: 'engine-trainer-1', identity: 'test', dtype: 'float32', size: flat.length }, payload: [flat, zeros, zeros].map((a) => new Uint8Array(a.buffer)), state: {},
    });
    return runId;
  }

  it('lays the adapter out as the train graph orders its trainable parameters', () => {
    const built = buildGraph({ kind: 'logits', model: folder.config.model, adapter: { ...ADAPTER, targetModules: [...ADAPTER.targetModules] }, batchSize: 1, seqLen: 4, dtype: 'float32' }, folder.weights);
    expect(layout.entries.map((e) => [e.name, e.shape])).toEqual(built.trainable.map((p) => [p.name, [...p.shape]]));
  });

  it('streams the text the engine generates, then says why it stopped', async () => {
    const r = await generate({ modelId: 'bundled:tiny', prompt: 'function add(a, b) {', maxTokens: 12 });
    expect(r.done).toMatchObject({ reason: expect.stringMatching(/^(length|eos)$/), message: null, device: 'cpu' });
    expect(r.done.promptTokens).toBeGreaterThan(3);
    expect(r.text).toBe(await direct('function add(a, b) {', 12));
    expect(r.tokens).toBeGreaterThan(0);
  });

  it("generates with a run's adapter: a zero update is the base model, a real one changes the text", async () => {
    const rng = new Rng(5);
    const zeroB = new Float32Array(layout.size);
    const trained = new Float32Array(layout.size);
    for (const e of layout.entries) {
      for (let i = e.offset; i < e.offset + e.size; i++) {
        const a = rng.normal() * 0.5;
        trained[i] = e.name.includes('lora_B') ? rng.normal() * 2 : a;
        zeroB[i] = e.name.includes('lora_B') ? 0 : a;
      }
    }
    const prompt = 'The license grants';
    const base = await generate({ modelId: 'bundled:tiny', prompt, maxTokens: 16 });
    const same = await generate({ modelId: 'bundled:tiny', adapterRunId: runWithAdapter(zeroB), prompt, maxTokens: 16 });
    expect(same.text).toBe(base.text);
    const tuned = await generate({ modelId: 'bundled:tiny', adapterRunId: runWithAdapter(trained), prompt, maxTokens: 16 });
    expect(tuned.text).toBe(await direct(prompt, 16, layout.views(trained)));
    expect(tuned.text).not.toBe(base.text);
  });

  it('cancels a request, and refuses what cannot be generated in words', async () => {
    const started = core.call<{ requestId: string }>('generate.start', { modelId: 'bundled:tiny', prompt: 'x', maxTokens: 4096 });
    let done: Done | null = null;
    const off = core.bus.subscribe((e) => {
      if (e.event === 'generate.done') done = e.payload as Done;
    });
    const { requestId } = await started;
    await core.call('generate.cancel', { requestId });
    await expect.poll(() => done, { timeout: 30_000 }).not.toBeNull();
    off();
    expect(done!).toMatchObject({ requestId, reason: 'cancelled' });
    await core.call('generate.cancel', { requestId: 'no-such-request' });
    expect((await core.fail('generate.start', { modelId: 'bundled:nope', prompt: 'x' })).name).toBe('NotFound');
    const empty = core.store.runs.create({ name: 'no checkpoints', config: {}, strategy: 'dynamics', seed: 0 });
    expect((await core.fail('generate.start', { modelId: 'bundled:tiny', adapterRunId: empty, prompt: 'x' })).message).toMatch(/configuration of run/);
  });
});
