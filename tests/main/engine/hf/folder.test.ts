// Loading model folders and adapters, and refusing broken ones: config.json with NaN/Infinity,
// unsupported architectures (one sentence listing the supported ones), shard paths that leave the
// folder (`..`, absolute, symlinks; the hub cache's blobs layout allowed), shapes that disagree with
// config.json, missing tensors, pickle checkpoints, malformed tokenizer files, unsupported PEFT
// options. Each refusal is a UserError naming the file.
import { mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../../src/shared/errors';
import { parseHfConfig, readHfConfig } from '../../../../src/main/engine/hf/config';
import { parseLenientJson, resolveInside, stringifyLenientJson } from '../../../../src/main/engine/hf/files';
import { loadModelFolder } from '../../../../src/main/engine/hf/folder';
import { loadPeftAdapter } from '../../../../src/main/engine/hf/peft';
import { SafetensorsFile } from '../../../../src/main/engine/hf/safetensors';
import { writeSafetensors } from '../../../../src/main/engine/hf/safetensors-write';
import { tempDir } from '../../../helpers/temp';
import { copyFixture, fixtureDir } from './helpers';

const root = tempDir('hf-folder-');
let count = 0;
const fresh = (v: Parameters<typeof copyFixture>[0]) => copyFixture(v, root, `${v}-${count++}`);

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    const msg = (err as Error).message;
    expect(msg.split('\n')).toHaveLength(1);
    return msg;
  }
  throw new Error('expected a refusal');
}

const editJson = (file: string, edit: (o: Record<string, unknown>) => void) => {
  const o = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  edit(o);
  writeFileSync(file, JSON.stringify(o));
};

describe('config.json', () => {
  it('tolerates NaN and Infinity as Python writes them, and writes them back', () => {
    const text = '{"a": NaN, "b": [Infinity, -Infinity], "c": "NaN stays a string", "d": 1.5}';
    const v = parseLenientJson(text, 'config.json') as Record<string, unknown>;
    expect(v.a).toBeNaN();
    expect(v.b).toEqual([Infinity, -Infinity]);
    expect(v.c).toBe('NaN stays a string');
    expect(stringifyLenientJson(v)).toContain('"a": NaN');
    expect(parseLenientJson(stringifyLenientJson(v), 'x')).toEqual(v);
    const dir = fresh('qwen2-f32');
    const file = path.join(dir, 'config.json');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"transformers_version"', '"some_threshold": NaN, "limit": Infinity, "transformers_version"'));
    expect(readHfConfig(file).architecture).toBe('Qwen2ForCausalLM');
  });

  it('names file, line and column of a syntax error', () => {
    expect(refusal(() => parseLenientJson('{\n  "a": 1,\n  "b": }', 'config.json'))).toMatch(/^config\.json:3:\d+ is not valid JSON/);
  });

  it('refuses an unsupported architecture in one sentence listing the supported ones', () => {
    const msg = refusal(() => parseHfConfig({ architectures: ['FalconForCausalLM'] }, 'config.json'));
    expect(msg).toBe('config.json: architecture FalconForCausalLM is not supported; supported architectures are LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, GPT2LMHeadModel');
  });

  it('applies each architecture’s defaults and refuses what it cannot compute', () => {
    const llama = { vocab_size: 64, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 1, num_attention_heads: 4 };
    expect(parseHfConfig({ ...llama, model_type: 'qwen3' }, 'c').model).toMatchObject({ head_dim: 128, qk_norm: true, tie_word_embeddings: false });
    expect(parseHfConfig({ ...llama, architectures: ['MistralForCausalLM'] }, 'c').model).toMatchObject({ sliding_window: 4096 });
    expect(parseHfConfig({ ...llama, architectures: ['MistralForCausalLM'], sliding_window: null }, 'c').model).toMatchObject({ sliding_window: null });
    expect(parseHfConfig({ architectures: ['GPT2LMHeadModel'] }, 'c').model).toMatchObject({ n_embd: 768, n_layer: 12, tie_word_embeddings: true });
    expect(parseHfConfig({ ...llama, architectures: ['LlamaForCausalLM'], rope_parameters: { rope_type: 'llama3', rope_theta: 5e5, factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 } }, 'c').model)
      .toMatchObject({ rope_theta: 5e5, rope_scaling: { rope_type: 'llama3', factor: 8 } });
    expect(refusal(() => parseHfConfig({ ...llama, architectures: ['LlamaForCausalLM'], rope_scaling: { type: 'yarn', factor: 4 } }, 'c'))).toMatch(/rope_scaling of type "yarn" is not supported \(supported: default, linear, llama3\)/);
    expect(refusal(() => parseHfConfig({ ...llama, architectures: ['Qwen2ForCausalLM'], use_sliding_window: true }, 'c'))).toMatch(/use_sliding_window true is not supported/);
    expect(refusal(() => parseHfConfig({ ...llama, architectures: ['LlamaForCausalLM'], hidden_act: 'gelu' }, 'c'))).toMatch(/hidden_act "gelu" is not supported/);
    expect(refusal(() => parseHfConfig({ ...llama, architectures: ['LlamaForCausalLM'], hidden_size: NaN }, 'c'))).toMatch(/field hidden_size must be an integer/);
    expect(refusal(() => parseHfConfig({ ...llama, architectures: ['LlamaForCausalLM'], num_key_value_heads: 3 }, 'c'))).toMatch(/^c: .*num_attention_heads \(4\) must be a multiple of num_key_value_heads \(3\)/);
  });

  it('caps the file size', () => {
    const dir = fresh('llama-f32');
    writeFileSync(path.join(dir, 'config.json'), `{"pad": "${'x'.repeat(5 << 20)}"}`);
    expect(refusal(() => loadModelFolder(dir))).toMatch(/config\.json is \d+ bytes, more than the limit of 4194304 bytes/);
  });
});

describe('checkpoints', () => {
  it('loads a sharded checkpoint through its index', () => {
    const f = loadModelFolder(fixtureDir('mistral-f32'), { tokenizer: false });
    expect(f.weights.files).toHaveLength(3);
    f.close();
  });

  it('refuses a shard path with "..", an absolute path, and a symlink leading outside', () => {
    const dir = fresh('mistral-f32');
    const index = path.join(dir, 'model.safetensors.index.json');
    const original = readFileSync(index, 'utf8');
    const first = Object.keys(JSON.parse(original).weight_map)[0]!;
    editJson(index, (o) => ((o.weight_map as Record<string, string>)[first] = '../outside.safetensors'));
    expect(refusal(() => loadModelFolder(dir))).toMatch(/weight_map\[".*"\]: the path "\.\.\/outside\.safetensors" contains "\.\.", so it could leave the model folder/);
    editJson(index, (o) => ((o.weight_map as Record<string, string>)[first] = '/etc/passwd'));
    expect(refusal(() => loadModelFolder(dir))).toMatch(/the path "\/etc\/passwd" is absolute/);
    // a shard replaced by a symlink to a copy outside the folder
    writeFileSync(index, original);
    const shard = JSON.parse(original).weight_map[first] as string;
    const outside = path.join(root, `outside-${count++}.safetensors`);
    renameSync(path.join(dir, shard), outside);
    symlinkSync(outside, path.join(dir, shard));
    expect(refusal(() => loadModelFolder(dir))).toMatch(/is a symbolic link that leads outside the model folder/);
  });

  it('follows the hub cache’s snapshot -> blobs symlinks', () => {
    const repo = path.join(root, 'models--org--tiny');
    const snap = path.join(repo, 'snapshots', 'abc123');
    mkdirSync(path.join(repo, 'blobs'), { recursive: true });
    mkdirSync(snap, { recursive: true });
    for (const f of ['config.json', 'model.safetensors', 'generation_config.json']) {
      const blob = path.join(repo, 'blobs', `sha-${f}`);
      writeFileSync(blob, readFileSync(path.join(fixtureDir('llama-f32'), f)));
      symlinkSync(path.join('..', '..', 'blobs', `sha-${f}`), path.join(snap, f));
    }
    expect(resolveInside(snap, 'model.safetensors', 'x')).toBe(path.join(repo, 'blobs', 'sha-model.safetensors'));
    const folder = loadModelFolder(snap);
    expect(folder.architecture).toBe('LlamaForCausalLM');
    folder.close();
  });

  it('refuses a tensor whose shape disagrees with config.json, and a missing tensor', () => {
    const dir = fresh('llama-f32');
    editJson(path.join(dir, 'config.json'), (o) => (o.intermediate_size = 40));
    expect(refusal(() => loadModelFolder(dir))).toMatch(/model\.safetensors: tensor model\.layers\.0\.mlp\.gate_proj\.weight has shape \[48, 32\] but config\.json implies \[40, 32\]/);
    editJson(path.join(dir, 'config.json'), (o) => ((o.intermediate_size = 48), (o.num_hidden_layers = 3)));
    expect(refusal(() => loadModelFolder(dir))).toMatch(/has no tensor model\.layers\.2\.input_layernorm\.weight, which config\.json implies/);
  });

  it('refuses an index naming a tensor its shard lacks, and a pickle-only folder', () => {
    const dir = fresh('mistral-f32');
    editJson(path.join(dir, 'model.safetensors.index.json'), (o) => ((o.weight_map as Record<string, string>)['model.extra.weight'] = 'model-00001-of-00003.safetensors'));
    expect(refusal(() => loadModelFolder(dir))).toMatch(/places tensor model\.extra\.weight in model-00001-of-00003\.safetensors, but .* has no such tensor/);
    const pk = path.join(root, `pickle-${count++}`);
    mkdirSync(pk);
    writeFileSync(path.join(pk, 'config.json'), readFileSync(path.join(fixtureDir('llama-f32'), 'config.json')));
    writeFileSync(path.join(pk, 'pytorch_model.bin'), 'not loaded');
    expect(refusal(() => loadModelFolder(pk))).toMatch(/pytorch_model\.bin, a pickle checkpoint, which is not loaded because unpickling can run code/);
  });

  it('refuses a truncated shard with the shard named', () => {
    const dir = fresh('llama-f32');
    const file = path.join(dir, 'model.safetensors');
    writeFileSync(file, readFileSync(file).subarray(0, 5000));
    expect(refusal(() => loadModelFolder(dir))).toMatch(/model\.safetensors is not a valid safetensors file: tensor .* ends at data byte \d+ but the file holds only \d+ bytes of data/);
  });

  it('reports tensors the model does not use, ignoring known buffers', () => {
    const f = loadModelFolder(fixtureDir('gpt2-bf16'), { tokenizer: false });
    expect(f.weights.unused).toEqual([]); // attn.bias / attn.masked_bias are buffers
    expect(f.weights.names()).toContain('transformer.h.0.attn.c_attn.weight'); // unprefixed keys mapped
    f.close();
  });
});

describe('tokenizer files', () => {
  const withTokenizer = (text: string) => {
    const dir = fresh('gpt2-f32');
    writeFileSync(path.join(dir, 'tokenizer.json'), text);
    return dir;
  };
  const vocab = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`t${i}`, i]));

  it('accepts a well-formed tokenizer and reports it', () => {
    const f = loadModelFolder(withTokenizer(JSON.stringify({ model: { type: 'WordLevel', vocab, unk_token: 't0' }, added_tokens: [{ id: 2, content: 't2', special: true }] })));
    expect(f.tokenizer).toMatchObject({ model: 'WordLevel', vocabSize: 64, maxId: 63, addedTokens: 1 });
    f.close();
  });

  it('refuses malformed tokenizer.json', () => {
    expect(refusal(() => loadModelFolder(withTokenizer('{"model": {"type": "BPE", "vocab": {"a": 0}, ')))).toMatch(/tokenizer\.json:1:\d+ is not valid JSON/);
    expect(refusal(() => loadModelFolder(withTokenizer('{"version": "1.0"}')))).toMatch(/tokenizer\.json: field model must be an object/);
    expect(refusal(() => loadModelFolder(withTokenizer('{"model": {"type": "Magic", "vocab": {}}}')))).toMatch(/model\.type "Magic" is not one of BPE, Unigram, WordPiece, WordLevel/);
    expect(refusal(() => loadModelFolder(withTokenizer('{"model": {"type": "BPE", "vocab": {"a": -1}, "merges": []}}')))).toMatch(/model\.vocab\["a"\] must be a non-negative integer id/);
    expect(refusal(() => loadModelFolder(withTokenizer(JSON.stringify({ model: { type: 'WordLevel', vocab: { ...vocab, big: 64 } } }))))).toMatch(/has token id 64 but the model's vocabulary \(vocab_size\) holds ids 0\.\.63 only/);
    expect(refusal(() => loadModelFolder(withTokenizer(JSON.stringify({ model: { type: 'WordLevel', vocab }, added_tokens: [{ content: 'x' }] }))))).toMatch(/added_tokens\[0\] must be an object with an integer id and a content string/);
  });
});

describe('PEFT adapters', () => {
  const adapterOf = (v: Parameters<typeof copyFixture>[0]) => {
    const dir = fresh(v);
    return { dir: path.join(dir, 'adapter'), model: loadModelFolder(dir, { tokenizer: false }) };
  };

  it('refuses options it does not compute, naming the field', () => {
    const { dir, model } = adapterOf('llama-f32');
    const cfg = path.join(dir, 'adapter_config.json');
    const original = readFileSync(cfg, 'utf8');
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ use_dora: true }, /use_dora true \(DoRA\) is not supported/],
      [{ lora_bias: true }, /lora_bias true \(a bias on lora_B\) is not supported/],
      [{ rank_pattern: { q_proj: 8 } }, /field rank_pattern is set/],
      [{ modules_to_save: ['lm_head'] }, /field modules_to_save is set/],
      [{ target_modules: '.*proj' }, /target_modules as a regular expression is not supported/],
      [{ target_modules: ['c_attn'] }, /target module c_attn not found in the model/],
      [{ peft_type: 'IA3' }, /peft_type "IA3" is not supported/],
      [{ r: 0 }, /field r must be an integer from 1 to 4096/],
    ];
    for (const [patch, pattern] of cases) {
      writeFileSync(cfg, JSON.stringify({ ...JSON.parse(original), ...patch }));
      expect(refusal(() => loadPeftAdapter(dir, model.config.model))).toMatch(pattern);
    }
    model.close();
  });

  it('refuses tensors that disagree with the config, unexpected keys, and pickle adapters', () => {
    const { dir, model } = adapterOf('qwen3-f32');
    const file = path.join(dir, 'adapter_model.safetensors');
    const st = SafetensorsFile.open(file);
    const tensors = st.names.map((name) => ({ name, dtype: 'F32' as const, shape: st.info(name).shape, data: st.readFloat32(name) }));
    st.close();
    const write = (list: typeof tensors) => writeSafetensors(file, list.map((t) => ({ ...t, bytes: () => new Uint8Array(t.data.buffer) })));
    editJson(path.join(dir, 'adapter_config.json'), (o) => (o.r = 8));
    expect(refusal(() => loadPeftAdapter(dir, model.config.model))).toMatch(/tensor base_model\.model\..*lora_[AB]\.weight has shape \[\d+, 4\]|\[4, \d+\] but the model and adapter_config\.json imply/);
    editJson(path.join(dir, 'adapter_config.json'), (o) => (o.r = 4));
    write([...tensors, { name: 'base_model.model.lm_head.lora_A.weight', dtype: 'F32', shape: [4, 32], data: new Float32Array(128) }]);
    expect(refusal(() => loadPeftAdapter(dir, model.config.model))).toMatch(/unexpected tensor base_model\.model\.lm_head\.lora_A\.weight/);
    write(tensors.slice(1));
    expect(refusal(() => loadPeftAdapter(dir, model.config.model))).toMatch(/has no tensor base_model\.model\..*, which adapter_config\.json implies/);
    rmSync(file);
    writeFileSync(path.join(dir, 'adapter_model.bin'), 'x');
    expect(refusal(() => loadPeftAdapter(dir, model.config.model))).toMatch(/adapter_model\.bin, a pickle file/);
    model.close();
  });
});
