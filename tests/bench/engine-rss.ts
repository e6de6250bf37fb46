// Child process of the engine benchmark: the resident memory of a LoRA training session over a
// model with 256 MiB of float32 base weights, against the weights' bytes. `prepare` fills the
// graph cache; `measure` (a fresh process) opens the session from the warm cache, where the
// weights are never read into JavaScript, runs a train step and an eval step (a run does both)
// and reports the RSS they added (and the PSS, where Linux gives it: file pages mapped twice
// count once there).
// Usage: tsx tests/bench/engine-rss.ts prepare|measure CACHE_DIR [PREPACK ARENA PATTERN], each auto|on|off
import { readFileSync } from 'node:fs';
import { parameterShapes } from '../../src/main/engine/graphs';
import type { DecoderConfig } from '../../src/main/engine/models/config';
import { OrtRuntime } from '../../src/main/engine/runtime/ort-runtime';
import { Rng } from '../../src/main/engine/train/rng';
import { TrainingSession } from '../../src/main/engine/training-session';
import type { WeightSource } from '../../src/main/engine/weights';

export const RSS_MODEL: DecoderConfig = {
  vocab_size: 8000, hidden_size: 1024, intermediate_size: 2816, num_hidden_layers: 4, num_attention_heads: 16,
  rms_norm_eps: 1e-5, rope_theta: 10000,
};

const [mode, cacheDir, prepackArg = 'auto', arenaArg = 'auto', patternArg = 'auto'] = process.argv.slice(2);
const flag = (a: string) => (a === 'auto' ? undefined : a === 'on');
if ((mode !== 'prepare' && mode !== 'measure') || !cacheDir) {
  console.error('usage: engine-rss.ts prepare|measure CACHE_DIR [auto|on|off]');
  process.exit(2);
}

/** FNV-1a of the name: a distinct seed per weight. */
function nameSeed(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

const shapes = new Map(parameterShapes(RSS_MODEL).map((p) => [p.name, p.shape.reduce((a, b) => a * b, 1)]));
const weightBytes = 4 * [...shapes.values()].reduce((a, b) => a + b, 0);
const source: WeightSource = {
  size: (name) => shapes.get(name),
  read: (name) => {
    if (mode === 'measure') throw new Error(`weights were read while measuring (${name}): the cache was cold`);
    // Seeded by the whole name: every weight distinct (a seed from the name's length made the
    // same-shaped weights of different layers byte-identical, which flatters any memory figure).
    const rng = new Rng(nameSeed(name));
    const w = new Float32Array(shapes.get(name)!);
    for (let i = 0; i < w.length; i++) w[i] = name.endsWith('norm.weight') ? 1 : 0.02 * (rng.next() - 0.5);
    return w;
  },
};

const rss = () => process.memoryUsage().rss / 2 ** 20;
/** Proportional set size in MiB (Linux), or NaN. */
const pss = (): number => {
  try {
    return Number(/^Pss:\s+(\d+)/m.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'))?.[1] ?? NaN) / 1024;
  } catch {
    return NaN;
  }
};
const B = 1;
const T = 128;
const ids = Int32Array.from({ length: B * T }, (_, i) => (i * 31) % 8000);
const before = rss();
const pssBefore = pss();
const session = await TrainingSession.create({
  runtime: new OrtRuntime(), cacheDir, model: RSS_MODEL, baseWeights: source, weightsKey: 'bench-rss-model-v2',
  adapter: { kind: 'lora', r: 16, alpha: 32, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] },
  batchSize: B, seqLen: T, device: 'cpu', threads: 1, prepack: flag(prepackArg), memoryArena: flag(arenaArg), memoryPattern: flag(patternArg),
});
const batch = { batchSize: B, seqLen: T, inputIds: ids, labels: ids };
await session.trainStep(batch);
await session.evalStep(batch);
await session.trainStep(batch);
const after = rss();
const pssAfter = pss();
await session.release();
console.log(JSON.stringify({ mode, prepack: prepackArg, arena: arenaArg, pattern: patternArg, weights_mb: weightBytes / 2 ** 20, rss_mb: after - before, pss_mb: pssAfter - pssBefore }));
