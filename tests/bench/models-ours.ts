// Child process of the models benchmark (one per measurement, so each reports its own peak RSS):
//   write DIR SIZE                 a folder with Qwen2.5-SIZE's shapes (0.5b, 1.5b) and random bf16 weights
//   train DIR CACHE B T STEPS      load the folder, open a LoRA (r 16, all linear layers) session,
//                                  one warm-up step, then STEPS timed train steps; prints the
//                                  session's own memory estimate beside the peak (BENCH_PREPACK,
//                                  BENCH_ARENA, BENCH_HALF, BENCH_RECOMPUTE = on|off override the
//                                  session's defaults; BENCH_DEVICE = cpu|cuda|auto, default cpu)
//   weights DIR CACHE              the memory a session's frozen weights hold after two train
//                                  steps: the resident bytes of the weights file ONNX Runtime maps
//   generate DIR CACHE PROMPT NEW  greedy generation with the KV cache
// Prints one JSON line. Timings are wall-clock; the machine may be shared.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseHfConfig } from '../../src/main/engine/hf/config';
import { encodeFloat32 } from '../../src/main/engine/hf/dtypes';
import { loadModelFolder } from '../../src/main/engine/hf/folder';
import { writeSafetensors } from '../../src/main/engine/hf/safetensors-write';
import { Generator } from '../../src/main/engine/generate/generator';
import { parameterShapes } from '../../src/main/engine/graphs';
import { estimateTrainingMemory, trainingMemoryInput } from '../../src/main/engine/memory';
import type { LoraTarget } from '../../src/main/engine/models/lora';
import type { DevicePreference } from '../../src/main/engine/runtime-api';
import { OrtRuntime } from '../../src/main/engine/runtime/ort-runtime';
import { Rng } from '../../src/main/engine/train/rng';
import { TrainingSession } from '../../src/main/engine/training-session';

/** Qwen2.5-0.5B's config.json (sizes, biases, tied head), as published. */
export const QWEN25_05B = {
  architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', vocab_size: 151936, hidden_size: 896, intermediate_size: 4864,
  num_hidden_layers: 24, num_attention_heads: 14, num_key_value_heads: 2, max_position_embeddings: 32768, rms_norm_eps: 1e-6,
  rope_theta: 1000000.0, tie_word_embeddings: true, hidden_act: 'silu', use_sliding_window: false, sliding_window: 32768,
  max_window_layers: 21, bos_token_id: 151643, eos_token_id: 151643, torch_dtype: 'bfloat16',
};
/** Qwen2.5-1.5B's sizes (the rest as 0.5B's). */
export const QWEN25_15B = { ...QWEN25_05B, hidden_size: 1536, intermediate_size: 8960, num_hidden_layers: 28, num_attention_heads: 12, max_window_layers: 28 };
const CONFIGS: Record<string, typeof QWEN25_05B> = { '0.5b': QWEN25_05B, '1.5b': QWEN25_15B };
export const LORA = { kind: 'lora' as const, r: 16, alpha: 32, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as LoraTarget[] };

const peakRssMb = (): number => {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.memoryUsage().rss / 2 ** 20;
};
const onOff = (v: string | undefined): boolean | undefined => (v === 'on' ? true : v === 'off' ? false : undefined);
const rssMb = () => process.memoryUsage().rss / 2 ** 20;
const seconds = (t0: number) => (performance.now() - t0) / 1000;

function writeModel(dir: string, size: string): void {
  const config = CONFIGS[size];
  if (!config) throw new Error(`no model size ${size} (${Object.keys(CONFIGS).join(', ')})`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
  writeFileSync(path.join(dir, 'generation_config.json'), JSON.stringify({ bos_token_id: 151643, eos_token_id: 151643, do_sample: false }));
  const rng = new Rng(2024);
  const t0 = performance.now();
  const bytes = writeSafetensors(path.join(dir, 'model.safetensors'), parameterShapes(parseHfConfig(config, 'config.json').model).map((p) => ({
    name: p.name,
    dtype: 'BF16' as const,
    shape: p.shape,
    bytes: () => {
      const w = new Float32Array(p.shape.reduce((a, b) => a * b, 1));
      if (p.name.endsWith('norm.weight')) w.fill(1);
      else for (let i = 0; i < w.length; i++) w[i] = (rng.next() - 0.5) * (p.name.endsWith('.bias') ? 0.02 : 0.07); // std ≈ 0.02
      return encodeFloat32(w, 'BF16');
    },
  })), { format: 'pt' });
  console.log(JSON.stringify({ mode: 'write', bytes, seconds: seconds(t0) }));
}

async function train(dir: string, cacheDir: string, B: number, T: number, steps: number): Promise<void> {
  const t0 = performance.now();
  const folder = loadModelFolder(dir, { tokenizer: false });
  const checkS = seconds(t0);
  const t1 = performance.now();
  const session = await TrainingSession.create({
    runtime: new OrtRuntime(), cacheDir, model: folder.config.model, baseWeights: folder.weights, weightsKey: folder.weightsKey,
    adapter: LORA, batchSize: B, seqLen: T, device: (process.env.BENCH_DEVICE ?? 'cpu') as DevicePreference, threads: 2, seed: 1, nonZeroLoraB: true,
    schedule: { kind: 'constant', lr: 1e-6 }, prepack: onOff(process.env.BENCH_PREPACK), memoryArena: onOff(process.env.BENCH_ARENA),
    halfWeights: onOff(process.env.BENCH_HALF), recompute: onOff(process.env.BENCH_RECOMPUTE),
  });
  const sessionS = seconds(t1);
  const afterLoad = rssMb();
  const info0 = session.graph();
  const estimate = estimateTrainingMemory(trainingMemoryInput(folder.config.model, LORA, folder.weights, info0.halfWeights, B, T), info0.recompute, info0.halfCompute);
  const rng = new Rng(7);
  const ids = Int32Array.from({ length: B * T }, () => Math.floor(rng.next() * QWEN25_05B.vocab_size));
  const batch = { batchSize: B, seqLen: T, inputIds: ids, labels: ids };
  const tw = performance.now();
  await session.trainStep(batch);
  const warmS = seconds(tw);
  const ms: number[] = [];
  for (let i = 0; i < steps; i++) {
    const ts = performance.now();
    const r = await session.trainStep(batch);
    ms.push(performance.now() - ts);
    if (r.skipped) throw new Error(`a bench step was skipped: ${r.skipReason}`);
  }
  const info = session.graph();
  await session.release();
  folder.close();
  console.log(JSON.stringify({
    mode: 'train', batch: B, seq: T, check_s: checkS, session_s: sessionS, cached: info.cached, warmup_s: warmS, step_ms: ms,
    rss_after_load_mb: afterLoad, peak_rss_mb: peakRssMb(), estimate_mb: estimate.totalBytes / 2 ** 20, matmul_gflop: info.matmulFlops / 1e9,
    half_weights: info.halfWeights, half_compute: info.halfCompute, recompute: info.recompute, nodes: info.nodes, device: session.device.device,
  }));
}

/** RSS (MiB) of the process's mappings of files named `name` (/proc/self/smaps). */
function mappedRssMb(name: string): number {
  let inFile = false;
  let kb = 0;
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) inFile = line.endsWith(name);
    else if (inFile && line.startsWith('Rss:')) kb += Number(line.split(/\s+/)[1]);
  }
  return kb / 1024;
}

async function weights(dir: string, cacheDir: string): Promise<void> {
  const folder = loadModelFolder(dir, { tokenizer: false });
  const T = 16;
  const session = await TrainingSession.create({
    runtime: new OrtRuntime(), cacheDir, model: folder.config.model, baseWeights: folder.weights, weightsKey: folder.weightsKey,
    adapter: LORA, batchSize: 1, seqLen: T, device: 'cpu', threads: 2, seed: 1, halfWeights: onOff(process.env.BENCH_HALF),
  });
  const ids = Int32Array.from({ length: T }, (_, i) => (i * 7919) % QWEN25_05B.vocab_size);
  for (let i = 0; i < 2; i++) await session.trainStep({ batchSize: 1, seqLen: T, inputIds: ids, labels: ids });
  // ONNX Runtime maps the graph's aligned weights file: what that mapping holds is what the frozen weights hold
  const held = mappedRssMb('weights.bin');
  const halfMb = (2 * folder.parameterCount) / 2 ** 20;
  const info = session.graph();
  await session.release();
  folder.close();
  console.log(JSON.stringify({ mode: 'weights', held_mb: held, half_mb: halfMb, ratio: held / halfMb, half_weights: info.halfWeights }));
}

async function generate(dir: string, cacheDir: string, promptLen: number, newTokens: number): Promise<void> {
  const folder = loadModelFolder(dir, { tokenizer: false });
  const g = await Generator.create({
    runtime: new OrtRuntime(), cacheDir, device: 'cpu', threads: 2, halfWeights: onOff(process.env.BENCH_HALF),
    model: { config: folder.config.model, weights: folder.weights, weightsKey: folder.weightsKey },
  });
  const t0 = performance.now();
  await g.prepare(promptLen, newTokens);
  const prepareS = seconds(t0);
  const rng = new Rng(11);
  const prompt = Array.from({ length: promptLen }, () => Math.floor(rng.next() * 150000));
  const r = await g.generate(prompt, { maxNewTokens: newTokens });
  await g.release();
  folder.close();
  console.log(JSON.stringify({
    mode: 'generate', prompt: promptLen, new_tokens: r.tokens.length, prepare_s: prepareS, first_token_s: r.firstTokenSeconds,
    decode_tokens_per_s: r.decodeTokensPerSecond, total_s: r.seconds, peak_rss_mb: peakRssMb(), half_weights: g.precision.halfWeights,
  }));
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'write') writeModel(args[0]!, args[1] ?? '0.5b');
else if (mode === 'weights') await weights(args[0]!, args[1]!);
else if (mode === 'train') await train(args[0]!, args[1]!, Number(args[2]), Number(args[3]), Number(args[4]));
else if (mode === 'generate') await generate(args[0]!, args[1]!, Number(args[2]), Number(args[3]));
else {
  console.error('usage: models-ours.ts write DIR SIZE | train DIR CACHE B T STEPS | weights DIR CACHE | generate DIR CACHE PROMPT NEW');
  process.exit(2);
}
