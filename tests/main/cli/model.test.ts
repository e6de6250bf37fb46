// `dynamics model forward|info` and `dynamics generate` through the CLI entry: the forward contract
// (logits, loss, gradients under PEFT keys, checked against the PyTorch reference), the report of a
// folder, generated text equal to the reference's greedy continuation, and one-sentence refusals.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SafetensorsFile } from '../../../src/main/engine/hf/safetensors';
import { tempDir } from '../../helpers/temp';
import { copyFixture, fixtureDir, loadReference, relErr } from '../engine/hf/helpers';
import { runCli } from './helpers';

const dir = tempDir('dynamics-cli-model-');
const home = path.join(dir, 'home');

const run = (argv: string[]) => runCli(argv, { home });

function readOut(file: string): Map<string, { shape: readonly number[]; data: Float32Array }> {
  const st = SafetensorsFile.open(file);
  const m = new Map(st.names.map((n) => [n, { shape: st.info(n).shape, data: st.readFloat32(n) }]));
  st.close();
  return m;
}

describe('dynamics model forward', () => {
  it('writes logits, loss and every adapter gradient under its PEFT key, matching the reference', async () => {
    const ref = loadReference('qwen3-bf16');
    const [B, T] = ref.meta.batch;
    const ids = Array.from(ref.i32('input_ids'));
    const labels = Array.from(ref.i32('labels'));
    const rows = (a: number[]) => Array.from({ length: B }, (_, b) => a.slice(b * T, (b + 1) * T));
    const input = path.join(dir, 'ids.json');
    writeFileSync(input, JSON.stringify({ input_ids: rows(ids), labels: rows(labels) }));
    const outFile = path.join(dir, 'out.safetensors');
    const r = await run(['model', 'forward', '--model', fixtureDir('qwen3-bf16'), '--adapter', path.join(fixtureDir('qwen3-bf16'), 'adapter'), '--input', input, '--out', outFile, '--grads', '--device', 'cpu']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^loss [\d.]+, logits \[2, 10, 64\], \d+ adapter gradients written to .*out\.safetensors \(the CPU was requested\)$/);
    const out = readOut(outFile);
    expect(out.get('logits')!.shape).toEqual([B, T, 64]);
    expect(out.get('loss')!.shape).toEqual([]);
    expect(relErr(out.get('logits')!.data, ref.f64('lora.logits'))).toBeLessThan(1e-4);
    expect(Math.abs(out.get('loss')!.data[0]! - ref.f64('lora.loss')[0]!) / ref.f64('lora.loss')[0]!).toBeLessThan(1e-4);
    const grads = ref.names('lora.grad.');
    expect([...out.keys()].filter((k) => k.startsWith('base_model.model.')).sort()).toEqual(grads.sort());
    for (const k of grads) {
      expect(out.get(k)!.shape).toEqual(ref.shape(`lora.grad.${k}`));
      expect(relErr(out.get(k)!.data, ref.f64(`lora.grad.${k}`)), k).toBeLessThan(1e-3);
    }
  });

  it('uses input_ids as labels when none are given, and the base model without an adapter', async () => {
    const input = path.join(dir, 'ids-nolabels.json');
    writeFileSync(input, JSON.stringify({ input_ids: [[5, 6, 7, 8]] }));
    const outFile = path.join(dir, 'out2.safetensors');
    const r = await run(['model', 'forward', '--model', fixtureDir('gpt2-bf16'), '--input', input, '--out', outFile, '--device', 'cpu']);
    expect(r.code).toBe(0);
    const out = readOut(outFile);
    expect([...out.keys()].sort()).toEqual(['logits', 'loss']);
    const loss = out.get('loss')!.data[0]!;
    const logits = out.get('logits')!.data;
    // the loss by hand from the logits: mean over t of -log softmax(logits[t])[ids[t+1]]
    const V = 64;
    const ids = [5, 6, 7, 8];
    let sum = 0;
    for (let t = 0; t < 3; t++) {
      const row = logits.subarray(t * V, (t + 1) * V);
      const m = Math.max(...row);
      const lse = m + Math.log(row.reduce((a, x) => a + Math.exp(x - m), 0));
      sum += lse - row[ids[t + 1]!]!;
    }
    expect(Math.abs(loss - sum / 3) / loss).toBeLessThan(1e-5);
  });

  it('refuses mistakes in one sentence', async () => {
    const bad = path.join(dir, 'bad.json');
    const cases: [string[], RegExp, string?][] = [
      [['model', 'forward', '--input', 'x', '--out', 'y'], /needs --model/],
      [['model', 'forward', '--model', fixtureDir('llama-f32'), '--input', bad, '--out', 'y', '--grads'], /--grads computes adapter gradients, so it needs --adapter DIR/],
      [['model', 'forward', '--model', path.join(dir, 'nowhere'), '--input', bad, '--out', 'y'], /the model folder .*nowhere does not exist/],
      [['model', 'forward', '--model', fixtureDir('llama-f32'), '--input', bad, '--out', 'y'], /bad\.json: input_ids\[1\] has 2 entries, but rows must all have 3/, JSON.stringify({ input_ids: [[1, 2, 3], [4, 5]] })],
      [['model', 'forward', '--model', fixtureDir('llama-f32'), '--input', bad, '--out', 'y'], /bad\.json: input_ids\[0\]\[2\] = 64 is not a token id of the model \(0\.\.63\)/, JSON.stringify({ input_ids: [[1, 2, 64]] })],
      [['model', 'forward', '--model', fixtureDir('llama-f32'), '--input', bad, '--out', 'y'], /bad\.json: labels\[0\]\[0\] = -5 is neither -100 nor a token id/, JSON.stringify({ input_ids: [[1, 2]], labels: [[-5, 2]] })],
      [['model', 'forward', '--model', fixtureDir('llama-f32'), '--input', bad, '--out', 'y'], /bad\.json:1:\d+ is not valid JSON/, '{"input_ids": [[1, 2]'],
      [['model', 'info'], /needs exactly one model folder/],
      [['model', 'info', fixtureDir('llama-f32'), '--targets', 'c_attn'], /target module c_attn not found in the model/],
    ];
    for (const [argv, pattern, content] of cases) {
      if (content !== undefined) writeFileSync(bad, content);
      const r = await run(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toMatch(pattern);
      expect(r.err.split('\n')).toHaveLength(1);
    }
    const unsupported = copyFixture('llama-f32', dir, 'falcon');
    writeFileSync(path.join(unsupported, 'config.json'), JSON.stringify({ architectures: ['FalconForCausalLM'] }));
    const r = await run(['model', 'info', unsupported]);
    expect(r.err).toMatch(/architecture FalconForCausalLM is not supported; supported architectures are LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, GPT2LMHeadModel$/);
  });
});

/** A copy of a fixture with a word-level tokenizer whose tokens are "w00".."w63" ("w02" is EOS). */
const word = (i: number) => `w${String(i).padStart(2, '0')}`;

function withTokenizer(variant: Parameters<typeof copyFixture>[0]): string {
  const d = copyFixture(variant, dir, `${variant}-tok`);
  const vocab = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [word(i), i]));
  writeFileSync(path.join(d, 'tokenizer.json'), JSON.stringify({
    version: '1.0', truncation: null, padding: null, normalizer: null, post_processor: null, decoder: null,
    added_tokens: [{ id: 2, content: 'w02', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    pre_tokenizer: { type: 'Whitespace' }, model: { type: 'WordLevel', vocab, unk_token: 'w00' },
  }));
  writeFileSync(path.join(d, 'tokenizer_config.json'), JSON.stringify({ eos_token: 'w02', add_bos_token: false }));
  return d;
}

describe('dynamics model info', () => {
  it('reports architecture, parameters, dtypes, tokenizer and a memory estimate', async () => {
    const d = withTokenizer('qwen2-bf16');
    const r = await run(['model', 'info', d, '--batch', '2', '--seq', '256', '--rank', '8']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/architecture\s+Qwen2ForCausalLM \(torch_dtype bfloat16\)/);
    expect(r.out).toMatch(/parameters\s+[\d.]+K \(\d+\) stored as BF16/);
    expect(r.out).toMatch(/tokenizer\s+WordLevel, 64 tokens/);
    expect(r.out).toMatch(/LoRA\s+r 8, alpha 16 .*q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj/);
    expect(r.out).toMatch(/memory \(est\.\)\s+LoRA training, batch 2 × 256 tokens: /);
    const j = await run(['model', 'info', d, '--json']);
    const info = JSON.parse(j.out);
    expect(info).toMatchObject({ architecture: 'Qwen2ForCausalLM', storedDtypes: { BF16: info.parameters }, training: { batchSize: 1, seqLen: 512 } });
    expect(info.training.totalBytes).toBeGreaterThan(info.training.weightsBytes);
  });
});

describe('dynamics generate', () => {
  it('streams the greedy continuation, equal to the reference, with and without the adapter', async () => {
    const ref = loadReference('mistral-f32');
    const d = withTokenizer('mistral-f32');
    const prompt = Array.from(ref.i32('generate.prompt'), word).join(' ');
    for (const [extra, key] of [[[], 'generate.base'], [['--adapter', path.join(d, 'adapter')], 'generate.lora']] as const) {
      const r = await run(['generate', '--model', d, ...extra, '--prompt', prompt, '--max-new-tokens', '6', '--device', 'cpu', '--stats']);
      expect(r.code, r.err).toBe(0);
      const tokens = Array.from(ref.i32(key));
      const eos = tokens.indexOf(2); // w02 is the EOS token: generation stops there, printing nothing for it
      expect(r.out.trim()).toBe((eos >= 0 ? tokens.slice(0, eos) : tokens).map(word).join(' '));
      expect(r.err).toMatch(/tokens \((length|eos)\) from a 4-token prompt/);
    }
  });

  it('refuses a folder without a tokenizer, and bad sampling flags', async () => {
    expect((await run(['generate', '--model', fixtureDir('llama-f32'), '--prompt', 'hi'])).err).toMatch(/has no tokenizer\.json, so a text prompt cannot be encoded/);
    const d = withTokenizer('llama-f32');
    expect((await run(['generate', '--model', d, '--prompt', 'w05', '--temperature=-1'])).err).toMatch(/--temperature must be a number from 0 to 100/);
    expect((await run(['generate', '--model', d, '--prompt', 'w05', '--chat'])).err).toMatch(/has no chat template, so --chat cannot be used/);
    mkdirSync(path.join(dir, 'empty'), { recursive: true });
    expect((await run(['generate', '--model', path.join(dir, 'empty'), '--prompt', 'x'])).err).toMatch(/has no config\.json, so it is not a Hugging Face model folder/);
  });
});
