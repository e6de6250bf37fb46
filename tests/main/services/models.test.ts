// models.*: bundled and registered Hugging Face folders on the real loader, with the info a person
// choosing a model needs and refusals in words.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../../src/shared/events';
import type { ModelDetails, ModelSummary } from '../../../src/shared/services/models';
import { MEASURED_OVERHEAD, PROCESS_BASELINE_BYTES } from '../../../src/main/engine/memory';
import { writeTinyModel } from '../runner/tiny-fixtures';
import { testCore } from './helpers';

describe('models service', () => {
  const core = testCore({ model: 'tiny' });

  it('lists the bundled model with its architecture and size', async () => {
    const list = await core.call<ModelSummary[]>('models.list');
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ id: 'bundled:tiny', origin: 'bundled', configPath: 'bundled:tiny', hasTokenizer: true, problem: null });
    expect(list[0]!.parameters).toBeGreaterThan(100_000);
    expect(list[0]!.bytes).toBeGreaterThan(4 * list[0]!.parameters! - 1);
  });

  it('registers a folder with progress events, refuses it twice, and forgets it', async () => {
    const dir = writeTinyModel(path.join(core.root, 'other-model'), { hidden: 16, seed: 2 });
    const events: EventEnvelope[] = [];
    const off = core.bus.subscribe((e) => events.push(e));
    const m = await core.call<ModelSummary>('models.import', { path: dir, name: 'other', progressId: 'p1' });
    off();
    expect(m).toMatchObject({ origin: 'imported', name: 'other', dir, configPath: dir, architecture: 'LlamaForCausalLM' });
    const phases = events.filter((e) => e.event === 'model.import.progress').map((e) => (e.payload as { phase: string; progressId: string }));
    expect(phases.map((p) => p.phase)).toEqual(['reading', 'checking', 'done']);
    expect(phases.every((p) => p.progressId === 'p1')).toBe(true);
    expect((await core.fail('models.import', { path: dir })).message).toMatch(/already registered as "other"/);
    expect((await core.call<ModelSummary[]>('models.list')).map((x) => x.id)).toEqual(['bundled:tiny', m.id]);
    await core.call('models.remove', { id: m.id });
    expect((await core.call<ModelSummary[]>('models.list')).map((x) => x.id)).toEqual(['bundled:tiny']);
  });

  it('refuses folders that are not models, naming the file', async () => {
    const empty = path.join(core.root, 'not-a-model');
    mkdirSync(empty, { recursive: true });
    expect((await core.fail('models.import', { path: empty })).message).toMatch(/has no config\.json/);
    const broken = path.join(core.root, 'broken-model');
    mkdirSync(broken, { recursive: true });
    writeFileSync(path.join(broken, 'config.json'), '{"model_type": "llama",');
    const e = await core.fail('models.import', { path: broken });
    expect(e.name).not.toBe('InternalError');
    expect(e.message).toContain(path.join(broken, 'config.json'));
    expect((await core.fail('models.import', { path: path.join(core.root, 'missing') })).message).toMatch(/does not exist/);
  });

  it('gives shape, dtypes and a memory estimate that grows with batch and rank', async () => {
    const small = await core.call<ModelDetails>('models.info', { id: 'bundled:tiny', batchSize: 1, seqLen: 64, loraRank: 4 });
    expect(small.shape).toMatchObject({ layers: 2, hidden: 32, heads: 4, kvHeads: 2, vocab: 4096, tiedEmbeddings: true });
    expect(small.storedDtypes).toEqual({ F32: small.parameters });
    expect(small.tokenizer).toMatchObject({ model: 'BPE', vocabSize: 4096 });
    expect(small.lora.targets).toEqual(['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']);
    const t = small.training;
    expect(t.totalBytes).toBeGreaterThan(t.weightsBytes + t.activationBytes + t.lossSliceBytes + t.loraStateBytes + PROCESS_BASELINE_BYTES);
    expect(t.totalBytes).toBeLessThan((t.weightsBytes + t.activationBytes + t.lossSliceBytes + t.loraStateBytes) * MEASURED_OVERHEAD + PROCESS_BASELINE_BYTES);
    const big = await core.call<ModelDetails>('models.info', { id: 'bundled:tiny', batchSize: 4, seqLen: 64, loraRank: 16 });
    expect(big.training.activationBytes).toBeCloseTo(4 * small.training.activationBytes, 6);
    expect(big.lora.parameters).toBe(4 * small.lora.parameters);
    expect((await core.fail('models.info', { id: 'bundled:tiny', loraTargets: ['c_attn2'] })).message).toMatch(/not a LoRA target module/);
  });

  it('refuses unknown ids and removing a bundled model', async () => {
    expect((await core.fail('models.info', { id: 'bundled:nope' })).name).toBe('NotFound');
    expect((await core.fail('models.info', { id: 'whatever' })).message).toMatch(/model ids look like/);
    expect((await core.fail('models.remove', { id: 'bundled:tiny' })).message).toMatch(/bundled with the app/);
  });

  it('shows a registered folder that disappeared, with the reason', async () => {
    const dir = writeTinyModel(path.join(core.root, 'vanishing'), { hidden: 16 });
    const m = await core.call<ModelSummary>('models.import', { path: dir });
    const { rmSync } = await import('node:fs');
    rmSync(dir, { recursive: true });
    const listed = (await core.call<ModelSummary[]>('models.list')).find((x) => x.id === m.id)!;
    expect(listed.problem).toMatch(/is gone/);
  });
});
