// Generation with the key/value cache against the reference: greedy continuations equal PyTorch's
// (recomputed without a cache) for every architecture, with and without the adapter, whatever the
// prefill chunk, and with bf16 weights kept as stored; each token's log-probability equals the
// full forward pass's; stopping at EOS, at the model's context, on abort; seeded sampling is
// reproducible and respects top-k / top-p.
import { afterAll, describe, expect, it } from 'vitest';
import { loadModelFolder } from '../../../../src/main/engine/hf/folder';
import { runForward } from '../../../../src/main/engine/hf/forward';
import { loadPeftAdapter } from '../../../../src/main/engine/hf/peft';
import { Generator, type GeneratorOptions } from '../../../../src/main/engine/generate/generator';
import { chooseToken } from '../../../../src/main/engine/generate/sampling';
import { OrtRuntime } from '../../../../src/main/engine/runtime/ort-runtime';
import { Rng } from '../../../../src/main/engine/train/rng';
import { tempDir } from '../../../helpers/temp';
import { fixtureDir, loadReference, VARIANTS, type Variant } from '../hf/helpers';

const runtime = new OrtRuntime();
const cacheDir = tempDir('generate-');
const generators: Generator[] = [];
afterAll(async () => {
  for (const g of generators) await g.release();
});

function open(variant: Variant, withAdapter: boolean, chunk?: number) {
  const folder = loadModelFolder(fixtureDir(variant), { tokenizer: false });
  const adapter = withAdapter ? loadPeftAdapter(`${fixtureDir(variant)}/adapter`, folder.config.model) : undefined;
  const opts: GeneratorOptions = {
    runtime, cacheDir, device: 'cpu', threads: 1, chunk,
    model: { config: folder.config.model, weights: folder.weights, weightsKey: folder.weightsKey },
    adapter: adapter && { adapter: adapter.adapter, tensors: adapter.tensors },
  };
  return { folder, adapter, opts };
}

async function generator(opts: GeneratorOptions): Promise<Generator> {
  const g = await Generator.create(opts);
  generators.push(g);
  return g;
}

describe.each(VARIANTS)('%s: greedy generation with a KV cache', (variant) => {
  const ref = loadReference(variant);
  const prompt = Array.from(ref.i32('generate.prompt'));

  it.each([
    ['base', 3, false],
    ['with the adapter', 32, true],
  ] as const)('%s, prefill chunk %i, equals the reference', async (_label, chunk, withAdapter) => {
    const { opts } = open(variant, withAdapter, chunk);
    const g = await generator(opts);
    const expected = Array.from(ref.i32(withAdapter ? 'generate.lora' : 'generate.base'));
    const r = await g.generate(prompt, { maxNewTokens: expected.length });
    expect(r.tokens).toEqual(expected);
    expect(r.stopReason).toBe('length');
    expect(r.promptTokens).toBe(prompt.length);
  });

  it.runIf(variant.endsWith('-bf16'))('keeping the bf16 weights as stored (cast at use) equals the reference', async () => {
    const { opts } = open(variant, true, 4);
    const g = await generator({ ...opts, halfWeights: true });
    expect(g.precision).toEqual({ halfWeights: true, halfCompute: false });
    const expected = Array.from(ref.i32('generate.lora'));
    expect((await g.generate(prompt, { maxNewTokens: expected.length })).tokens).toEqual(expected);
  });
});

describe('the cache computes what the full forward pass computes', () => {
  it.each(['llama-f32', 'mistral-f32', 'qwen3-f32', 'gpt2-f32'] as const)('%s: log-probabilities of 12 generated tokens', async (variant) => {
    const { folder, adapter, opts } = open(variant, true, 5);
    const g = await generator(opts);
    const prompt = Array.from(loadReference(variant).i32('generate.prompt'));
    const got: { id: number; logprob: number }[] = [];
    const r = await g.generate(prompt, { maxNewTokens: 12, temperature: 1, seed: 7, onToken: (t) => got.push(t) });
    expect(r.tokens).toHaveLength(12);
    const seq = [...prompt, ...r.tokens];
    const T = seq.length;
    const full = await runForward({
      runtime, cacheDir, device: 'cpu', threads: 1,
      model: { config: folder.config.model, weights: folder.weights, weightsKey: folder.weightsKey },
      adapter: { adapter: adapter!.adapter, tensors: adapter!.tensors },
      batch: { batchSize: 1, seqLen: T, inputIds: Int32Array.from(seq), labels: Int32Array.from(seq) },
    });
    const V = full.logits.length / T;
    got.forEach((t, i) => {
      const row = full.logits.subarray((prompt.length - 1 + i) * V, (prompt.length + i) * V);
      let m = -Infinity;
      for (const x of row) m = Math.max(m, x);
      let s = 0;
      for (const x of row) s += Math.exp(x - m);
      expect(Math.abs(t.logprob - (row[t.id]! - m - Math.log(s))), `token ${i}`).toBeLessThan(1e-4);
    });
  });
});

describe('stopping', () => {
  it('stops at an EOS token, at the model’s context, and when aborted', async () => {
    const ref = loadReference('gpt2-f32');
    const prompt = Array.from(ref.i32('generate.prompt'));
    const first = ref.i32('generate.base')[0]!;
    const g = await generator(open('gpt2-f32', false).opts);
    const eos = await g.generate(prompt, { maxNewTokens: 10, stopTokens: [first] });
    expect(eos).toMatchObject({ tokens: [first], stopReason: 'eos' });
    // GPT-2 fixture: n_positions 32, so at most 32 - 4 + 1 new tokens (the last needs no position)
    const ctx = await g.generate(prompt, { maxNewTokens: 100, temperature: 1, seed: 3 });
    expect(ctx.stopReason).toBe('context');
    expect(ctx.tokens).toHaveLength(32 - prompt.length + 1);
    const abort = new AbortController();
    const seen: number[] = [];
    const aborted = await g.generate(prompt, { maxNewTokens: 20, signal: abort.signal, onToken: (t) => (seen.push(t.id), t.index === 2 && abort.abort()) });
    expect(aborted.stopReason).toBe('aborted');
    expect(aborted.tokens).toEqual(seen);
    expect(seen).toHaveLength(3);
  });

  it('refuses prompts outside the vocabulary or empty', async () => {
    const g = await generator(open('llama-f32', false).opts);
    await expect(g.generate([1, 64], { maxNewTokens: 2 })).rejects.toThrow(/prompt token 1 \(64\) is outside the vocabulary \(0\.\.63\)/);
    await expect(g.generate([], { maxNewTokens: 2 })).rejects.toThrow(/the prompt has no tokens/);
  });
});

describe('sampling', () => {
  const logits = Float32Array.from([2, 1, 0.5, 0, -1, 3]);

  it('is reproducible for a seed and follows the softmax at temperature 1', () => {
    const draw = (seed: number, n: number, o = { temperature: 1, topP: 1, topK: 0 }) => {
      const rng = new Rng(seed);
      return Array.from({ length: n }, () => chooseToken(logits, o, rng));
    };
    expect(draw(5, 50)).toEqual(draw(5, 50));
    const n = 40000;
    const counts = new Array<number>(logits.length).fill(0);
    for (const id of draw(11, n)) counts[id]!++;
    const z = Array.from(logits).reduce((a, x) => a + Math.exp(x), 0);
    logits.forEach((x, i) => expect(Math.abs(counts[i]! / n - Math.exp(x) / z)).toBeLessThan(0.01));
    // p = [0.22, 0.08, 0.05, 0.03, 0.01, 0.60]: top-k 2 keeps ids 5 and 0; top-p 0.6 keeps id 5 alone, 0.8 adds id 0
    expect(new Set(draw(1, 500, { temperature: 1, topP: 1, topK: 2 }))).toEqual(new Set([5, 0]));
    expect(new Set(draw(1, 500, { temperature: 1, topP: 0.6, topK: 0 }))).toEqual(new Set([5]));
    expect(new Set(draw(1, 500, { temperature: 1, topP: 0.8, topK: 0 }))).toEqual(new Set([5, 0]));
    // greedy, and a low temperature that concentrates on the argmax
    expect(draw(1, 20, { temperature: 0, topP: 1, topK: 0 })).toEqual(new Array(20).fill(5));
    expect(new Set(draw(1, 200, { temperature: 0.05, topP: 1, topK: 0 }))).toEqual(new Set([5]));
  });
});
