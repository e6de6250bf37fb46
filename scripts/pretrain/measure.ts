// `npx tsx scripts/pretrain/measure.ts`: the measurement behind the bundled base model's shape.
// For candidate Llama-style shapes (vocabulary 4,096, the bundled tokenizer's) it times, on this
// machine's CPU with our engine, a full-parameter train step (pretraining), a LoRA train step and an
// eval step (fine-tuning: what the demo and the scenario benchmark spend their time on), and prints
// the parameter counts beside them. Random weights and tokens: only the cost is measured here.
//   --shapes a,b,…   candidate names (default: all)     --steps N   timed steps per measurement (default 8)
//   --batch B --seq T   the batch shape (default 8 × 128)
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TokenBatch } from '../../src/main/engine/batch';
import { parameterShapes } from '../../src/main/engine/graphs';
import type { DecoderConfig } from '../../src/main/engine/models/config';
import { initBaseWeights } from '../../src/main/engine/models/init';
import { OrtRuntime } from '../../src/main/engine/runtime/ort-runtime';
import { TrainingSession } from '../../src/main/engine/training-session';
import type { AdapterConfig } from '../../src/main/engine/models/lora';
import { baseModelConfig, type ModelShapeChoice } from './model-config';

const CANDIDATES: Record<string, ModelShapeChoice> = {
  'h128-l4': { hidden: 128, layers: 4, heads: 4, kvHeads: 2, intermediate: 384 },
  'h192-l4': { hidden: 192, layers: 4, heads: 4, kvHeads: 2, intermediate: 512 },
  'h256-l4': { hidden: 256, layers: 4, heads: 4, kvHeads: 2, intermediate: 704 },
  'h256-l6': { hidden: 256, layers: 6, heads: 4, kvHeads: 2, intermediate: 704 },
};

const LORA: AdapterConfig = { kind: 'lora', r: 8, alpha: 16, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] };

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function randomBatch(B: number, T: number, seed: number): TokenBatch {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) % 4090);
  const inputIds = Int32Array.from({ length: B * T }, next);
  return { batchSize: B, seqLen: T, inputIds, labels: Int32Array.from(inputIds) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function timeSession(config: DecoderConfig, adapter: AdapterConfig, B: number, T: number, steps: number, cacheDir: string) {
  const weights = initBaseWeights(parameterShapes(config), 1);
  const session = await TrainingSession.create({ runtime: new OrtRuntime(), cacheDir, model: config, baseWeights: weights, adapter, batchSize: B, seqLen: T, device: 'cpu', seed: 1 });
  try {
    const batch = randomBatch(B, T, 9);
    await session.trainStep(batch); // warm-up (first run allocates)
    await session.evalStep(batch);
    const train: number[] = [];
    const evals: number[] = [];
    for (let k = 0; k < steps; k++) {
      let t0 = performance.now();
      await session.trainStep(batch);
      train.push(performance.now() - t0);
      t0 = performance.now();
      await session.evalStep(batch);
      evals.push(performance.now() - t0);
    }
    return { trainMs: median(train), evalMs: median(evals), trainable: session.trainable.length };
  } finally {
    await session.release();
  }
}

async function main(): Promise<void> {
  const names = (arg('--shapes') ?? Object.keys(CANDIDATES).join(',')).split(',');
  const steps = Number(arg('--steps') ?? 8);
  const B = Number(arg('--batch') ?? 8);
  const T = Number(arg('--seq') ?? 128);
  const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'dynamics-measure-'));
  try {
    console.log(`batch ${B} × ${T}, ${steps} timed steps each, medians; CPU load average ${os.loadavg()[0]!.toFixed(1)}`);
    console.log('| shape | parameters | non-embedding | full train ms | LoRA r8 train ms | eval ms |');
    console.log('|---|---:|---:|---:|---:|---:|');
    for (const name of names) {
      const shape = CANDIDATES[name];
      if (!shape) throw new Error(`unknown shape ${name} (known: ${Object.keys(CANDIDATES).join(', ')})`);
      const config = baseModelConfig(shape);
      const params = parameterShapes(config).reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0);
      const full = await timeSession(config, { kind: 'full' }, B, T, steps, cacheDir);
      const lora = await timeSession(config, LORA, B, T, steps, cacheDir);
      const nonEmb = params - config.vocab_size * config.hidden_size;
      console.log(`| ${name} | ${(params / 1e6).toFixed(2)}M | ${(nonEmb / 1e6).toFixed(2)}M | ${full.trainMs.toFixed(0)} | ${lora.trainMs.toFixed(0)} | ${lora.evalMs.toFixed(0)} |`);
    }
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

await main();
