// `npm run bench:models`: models with Qwen2.5-0.5B's and Qwen2.5-1.5B's shapes and distinct random
// bfloat16 weights, written by the benchmark itself to a temporary folder (1 and 3 GB). For each,
// LoRA (r 16, all linear layers) train steps at sequence length 512: peak RSS and tokens/s, ours
// (the session's defaults: bf16 weights kept as stored, recomputation as its memory estimate
// decides, printed beside the peak) against PyTorch eager with OpenBLAS on the same folder (which
// loads the weights in float32, as CPU training with PyTorch does), at batch 1, 2 and 4 for 0.5B
// and batch 1 for 1.5B; at 0.5B also ours with the other recomputation setting (its cost),
// the memory the frozen weights hold (the resident bytes of the mapped weights file), folder load
// and session build times, and generation tokens/s with the KV cache. Every measurement runs in a
// fresh child process (its own peak RSS); ours and the peer's alternate cell by cell, round by
// round. Ends with one line of JSON.
// Env: BENCH_BATCHES (1,2,4), BENCH_MODELS (0.5b,1.5b; 1.5b at batch 1 only), BENCH_SEQ (512),
// BENCH_STEPS (2 timed steps after a warm-up), BENCH_ROUNDS (1), BENCH_PEER=off, BENCH_GEN_PROMPT
// (32), BENCH_GEN_NEW (32), BENCH_DIR (a folder to keep the written models in). The peer (Debian's
// python3-torch, OpenBLAS unpacked by scripts/setup-bench-peer.sh) is found as the engine
// benchmark finds it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findPeer, ROOT } from './engine-peer';

const batches = (process.env.BENCH_BATCHES ?? '1,2,4').split(',').map(Number);
const models = (process.env.BENCH_MODELS ?? '0.5b,1.5b').split(',');
const seq = Number(process.env.BENCH_SEQ ?? 512);
const steps = Number(process.env.BENCH_STEPS ?? 2);
const rounds = Number(process.env.BENCH_ROUNDS ?? 1);
const genPrompt = Number(process.env.BENCH_GEN_PROMPT ?? 32);
const genNew = Number(process.env.BENCH_GEN_NEW ?? 32);
const work = mkdtempSync(path.join(os.tmpdir(), 'dynamics-bench-models-'));
const modelsRoot = process.env.BENCH_DIR ?? work;
const modelDir = (size: string) => path.join(modelsRoot, `qwen2.5-${size}-shaped`);
const cacheDir = path.join(work, 'graphs');
const log = (s: string) => process.stdout.write(`${s}\n`);

type Json = Record<string, unknown>;

function child(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Json | string {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: ROOT, env, maxBuffer: 1 << 26 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{')) {
    const why = r.signal ? `killed by ${r.signal}${r.signal === 'SIGKILL' ? ' (out of memory?)' : ''}` : (r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`);
    return `failed after ${((performance.now() - t0) / 1000).toFixed(0)} s: ${why}`;
  }
  return JSON.parse(line) as Json;
}

const ours = (args: string[], env: NodeJS.ProcessEnv = process.env) => child(process.execPath, ['--import', 'tsx', path.join(ROOT, 'tests', 'bench', 'models-ours.ts'), ...args], env);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/** One measurement cell: a model, a batch, and ours with the default recomputation setting or the other one. */
interface Cell {
  size: string;
  batch: number;
  otherSetting: boolean;
  ours: number[];
  peer: number[];
  oursRss: number[];
  peerRss: number[];
  estimateMb: number | null;
  recomputed: boolean | null;
  /** The peer's faster OpenBLAS thread count in this cell. */
  peerBlas?: number;
  notes: string[];
}

async function main(): Promise<void> {
  log(`models benchmark: Qwen2.5 ${models.join(', ')} shapes, random bf16 weights; LoRA r 16 on all linear layers; seq ${seq}; batches ${batches.join(', ')} (1.5b: 1); ${steps} timed steps after a warm-up; ${rounds} round(s)`);
  log(`machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} logical CPUs, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} (a shared machine: timings are indicative)`);

  const written: Record<string, number> = {};
  for (const size of models) {
    if (existsSync(path.join(modelDir(size), 'model.safetensors'))) continue;
    const w = ours(['write', modelDir(size), size]);
    if (typeof w === 'string') throw new Error(`writing the ${size} model folder ${w}`);
    written[size] = round(Number(w.seconds), 1);
    log(`wrote ${(Number(w.bytes) / 2 ** 30).toFixed(2)} GiB of bf16 safetensors for ${size} in ${Number(w.seconds).toFixed(1)} s`);
  }

  const peer = process.env.BENCH_PEER === 'off' ? 'not asked for (BENCH_PEER=off)' : findPeer();
  if (typeof peer === 'string') log(`peer: skipped, ${peer}`);
  const peerRun = (size: string, B: number, blas: number) =>
    typeof peer === 'string'
      ? 'skipped'
      : child(peer.python, [path.join(ROOT, 'tests', 'bench', 'models_peer.py'), modelDir(size), String(B), String(seq), String(steps)], {
          ...process.env, LD_LIBRARY_PATH: peer.openblasDir, OPENBLAS_NUM_THREADS: String(blas), PEER_THREADS: '2', OMP_NUM_THREADS: '2',
        });

  const cells: Cell[] = [];
  const cell = (size: string, batch: number, otherSetting = false) => {
    const c: Cell = { size, batch, otherSetting, ours: [], peer: [], oursRss: [], peerRss: [], estimateMb: null, recomputed: null, notes: [] };
    cells.push(c);
    return c;
  };
  for (const size of models) {
    for (const B of size === '0.5b' ? batches : [1]) {
      cell(size, B);
      // the other recomputation setting, for its cost in time and its saving in memory
      if (size === '0.5b') cell(size, B, true);
    }
  }

  // the first session builds the graph and writes the weights into the graph cache (cold)
  let cold: Json | null = null;
  const defaultRecompute = new Map<number, boolean>();
  for (let r = 0; r < rounds; r++) {
    for (const c of cells) {
      const label = `${c.size} batch ${c.batch}${c.otherSetting ? ' (other recomputation setting)' : ''}`;
      const env: NodeJS.ProcessEnv = { ...process.env };
      if (c.otherSetting) env.BENCH_RECOMPUTE = defaultRecompute.get(c.batch) ? 'off' : 'on';
      const o = ours(['train', modelDir(c.size), cacheDir, String(c.batch), String(seq), String(steps)], env);
      if (typeof o === 'string') {
        c.notes.push(`ours ${o}`);
        log(`${label}: ours ${o}`);
      } else {
        if (c.size === models[0] && !c.otherSetting) cold ??= o;
        if (c.size === '0.5b' && !c.otherSetting) defaultRecompute.set(c.batch, Boolean(o.recompute));
        c.ours.push(...(o.step_ms as number[]));
        c.oursRss.push(Number(o.peak_rss_mb));
        c.estimateMb = Number(o.estimate_mb);
        c.recomputed = Boolean(o.recompute);
        log(`${label}: ours ${(o.step_ms as number[]).map((x) => (x / 1000).toFixed(1)).join(', ')} s per step; recompute ${o.recompute ? 'on' : 'off'}; session ${Number(o.session_s).toFixed(1)} s (${o.cached ? 'warm' : 'cold'} cache); peak RSS ${Number(o.peak_rss_mb).toFixed(0)} MiB, estimated ${Number(o.estimate_mb).toFixed(0)} MiB`);
      }
      if (typeof peer === 'string' || c.otherSetting) continue;
      // at 2 threads the peer's BLAS may do better with 1 or 2 threads, depending on the shapes:
      // every cell tries both in the first round and keeps its faster
      const tries = r === 0 ? [1, 2] : [c.peerBlas ?? 1];
      let best: Json | null = null;
      for (const blas of tries) {
        const p = peerRun(c.size, c.batch, blas);
        if (typeof p === 'string') {
          c.notes.push(`peer (OpenBLAS ${blas}) ${p}`);
          log(`${label}: peer (torch 2 threads, OpenBLAS ${blas}) ${p}`);
          continue;
        }
        log(`${label}: peer (torch 2 threads, OpenBLAS ${blas}) ${(p.step_ms as number[]).map((x) => (x / 1000).toFixed(1)).join(', ')} s per step; peak RSS ${Number(p.peak_rss_mb).toFixed(0)} MiB`);
        if (!best || median(p.step_ms as number[]) < median(best.step_ms as number[])) {
          best = p;
          c.peerBlas = blas;
        }
      }
      if (best) {
        c.peer.push(...(best.step_ms as number[]));
        c.peerRss.push(Number(best.peak_rss_mb));
      }
    }
  }

  const held = ours(['weights', modelDir(models[0]!), cacheDir]);
  if (typeof held === 'string') log(`frozen weights: ${held}`);
  else log(`frozen weights (${models[0]}): ${Number(held.held_mb).toFixed(0)} MiB resident in the mapped weights file, ${Number(held.ratio).toFixed(3)}x their ${Number(held.half_mb).toFixed(0)} MiB of bf16`);

  const gen = ours(['generate', modelDir(models[0]!), cacheDir, String(genPrompt), String(genNew)]);
  if (typeof gen === 'string') log(`generation: ${gen}`);
  else log(`generation: ${Number(gen.decode_tokens_per_s).toFixed(2)} tokens/s decoding (${gen.new_tokens} tokens after a ${genPrompt}-token prompt; first token after ${Number(gen.first_token_s).toFixed(2)} s; graphs built in ${Number(gen.prepare_s).toFixed(1)} s); peak RSS ${Number(gen.peak_rss_mb).toFixed(0)} MiB`);

  const train = cells.map((c) => {
    const o = c.ours.length ? median(c.ours) : null;
    const p = c.peer.length ? median(c.peer) : null;
    const oursRss = c.oursRss.length ? Math.max(...c.oursRss) : null;
    const peerRss = c.peerRss.length ? Math.max(...c.peerRss) : null;
    const row = {
      model: c.size, batch: c.batch, seq, recompute: c.recomputed, default_setting: !c.otherSetting,
      ours_ms: o === null ? null : round(o, 0), peer_ms: p === null ? null : round(p, 0),
      ours_tokens_per_s: o === null ? null : round((c.batch * seq) / (o / 1000)), peer_tokens_per_s: p === null ? null : round((c.batch * seq) / (p / 1000)),
      speedup: o !== null && p !== null ? round(p / o, 3) : null,
      ours_peak_rss_mb: oursRss === null ? null : round(oursRss, 0), peer_peak_rss_mb: peerRss === null ? null : round(peerRss, 0),
      rss_ratio: oursRss !== null && peerRss !== null ? round(oursRss / peerRss, 3) : null, peer_blas_threads: c.peerBlas ?? null,
      estimate_mb: c.estimateMb === null ? null : round(c.estimateMb, 0),
      estimate_error: c.estimateMb !== null && oursRss !== null ? round(c.estimateMb / oursRss - 1, 3) : null,
      notes: c.notes,
    };
    log(`${c.size} batch ${c.batch} × ${seq}${c.otherSetting ? ' (other setting)' : ''}: ours ${row.ours_tokens_per_s ?? 'n/a'} tokens/s, ${row.ours_peak_rss_mb ?? 'n/a'} MiB (estimate ${row.estimate_error === null ? 'n/a' : `${row.estimate_error > 0 ? '+' : ''}${(100 * row.estimate_error).toFixed(0)}%`}); PyTorch ${row.peer_tokens_per_s ?? 'n/a'} tokens/s, ${row.peer_peak_rss_mb ?? 'n/a'} MiB; speedup ${row.speedup ?? 'n/a'}, RSS ratio ${row.rss_ratio ?? 'n/a'}`);
    return row;
  });
  const recomputeCost = batches.map((B) => {
    const at = train.filter((t) => t.model === '0.5b' && t.batch === B);
    const on = at.find((t) => t.recompute === true);
    const off = at.find((t) => t.recompute === false);
    if (!on?.ours_ms || !off?.ours_ms) return { batch: B, time_ratio: null };
    log(`recomputation at 0.5b batch ${B}: ${round(on.ours_ms / off.ours_ms, 3)}x the step time, ${on.ours_peak_rss_mb} MiB peak instead of ${off.ours_peak_rss_mb}`);
    return { batch: B, time_ratio: round(on.ours_ms / off.ours_ms, 3), peak_mb: on.ours_peak_rss_mb, peak_without_mb: off.ours_peak_rss_mb };
  });
  const summary = {
    bench: 'models',
    model: 'Qwen2.5 shapes, random bf16',
    write_s: written,
    load: cold ? { folder_check_s: round(Number(cold.check_s), 3), first_session_s: round(Number(cold.session_s), 1), cold_cache: !cold.cached, rss_after_load_mb: round(Number(cold.rss_after_load_mb), 0) } : null,
    train,
    recompute_cost: recomputeCost,
    frozen_weights: typeof held === 'string' ? { error: held } : { held_mb: round(Number(held.held_mb), 0), half_mb: round(Number(held.half_mb), 0), ratio: round(Number(held.ratio), 3) },
    generate: typeof gen === 'string' ? { error: gen } : { prompt: genPrompt, new_tokens: gen.new_tokens, decode_tokens_per_s: round(Number(gen.decode_tokens_per_s)), first_token_s: round(Number(gen.first_token_s)), peak_rss_mb: round(Number(gen.peak_rss_mb), 0) },
    load_avg: os.loadavg().map((l) => round(l, 1)),
  };
  rmSync(work, { recursive: true, force: true }); // a BENCH_DIR folder lies outside and is kept
  log(JSON.stringify(summary));
}

await main();
