// `npm run bench:models`: a model with Qwen2.5-0.5B's shapes and random bfloat16 weights, written
// by the benchmark itself to a temporary folder (~1 GB): folder load time, the first (cold-cache)
// session's build time, RSS, LoRA (r 16, all linear layers) train-step tokens/s at sequence length
// 512 and batch sizes 1-4 against PyTorch eager with OpenBLAS on the same folder, and generation
// tokens/s with the KV cache. Every measurement runs in a fresh child process (its own peak RSS);
// ours and the peer's alternate batch by batch, round by round. Ends with one line of JSON.
// Env: BENCH_BATCHES (1,4), BENCH_SEQ (512), BENCH_STEPS (2 timed steps after a warm-up),
// BENCH_ROUNDS (1), BENCH_PEER=off, BENCH_GEN_PROMPT (32), BENCH_GEN_NEW (32), BENCH_DIR (reuse a
// folder written earlier). The peer (Debian's python3-torch, OpenBLAS unpacked by
// scripts/setup-bench-peer.sh) is found as the engine benchmark finds it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findPeer, ROOT } from './engine-peer';

const batches = (process.env.BENCH_BATCHES ?? '1,4').split(',').map(Number);
const seq = Number(process.env.BENCH_SEQ ?? 512);
const steps = Number(process.env.BENCH_STEPS ?? 2);
const rounds = Number(process.env.BENCH_ROUNDS ?? 1);
const genPrompt = Number(process.env.BENCH_GEN_PROMPT ?? 32);
const genNew = Number(process.env.BENCH_GEN_NEW ?? 32);
const work = mkdtempSync(path.join(os.tmpdir(), 'dynamics-bench-models-'));
const modelDir = process.env.BENCH_DIR ?? path.join(work, 'qwen2.5-0.5b-shaped');
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

const ours = (...args: string[]) => child(process.execPath, ['--import', 'tsx', path.join(ROOT, 'tests', 'bench', 'models-ours.ts'), ...args]);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

async function main(): Promise<void> {
  log(`models benchmark: Qwen2.5-0.5B shapes, random bf16 weights; LoRA r 16 on all linear layers; seq ${seq}; batches ${batches.join(', ')}; ${steps} timed steps after a warm-up; ${rounds} round(s)`);
  log(`machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} logical CPUs, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} (a shared machine: timings are indicative)`);

  let write: Json | string | null = null;
  if (!existsSync(path.join(modelDir, 'model.safetensors'))) {
    write = ours('write', modelDir);
    if (typeof write === 'string') throw new Error(`writing the model folder ${write}`);
    log(`wrote ${(Number(write.bytes) / 2 ** 30).toFixed(2)} GiB of bf16 safetensors in ${Number(write.seconds).toFixed(1)} s to ${modelDir}`);
  }

  const peer = process.env.BENCH_PEER === 'off' ? 'not asked for (BENCH_PEER=off)' : findPeer();
  if (typeof peer === 'string') log(`peer: skipped, ${peer}`);
  const peerRun = (B: number, blas: number) =>
    typeof peer === 'string'
      ? 'skipped'
      : child(peer.python, [path.join(ROOT, 'tests', 'bench', 'models_peer.py'), modelDir, String(B), String(seq), String(steps)], {
          ...process.env, LD_LIBRARY_PATH: peer.openblasDir, OPENBLAS_NUM_THREADS: String(blas), PEER_THREADS: '2', OMP_NUM_THREADS: '2',
        });

  // the first session builds the graph and converts the weights into the graph cache (cold)
  const results = new Map<number, { ours: number[]; peer: number[]; oursRss: number[]; peerRss: number[]; note: string[] }>();
  for (const B of batches) results.set(B, { ours: [], peer: [], oursRss: [], peerRss: [], note: [] });
  let cold: Json | null = null;
  let peerBlas = 1;
  for (let r = 0; r < rounds; r++) {
    for (const B of batches) {
      const cell = results.get(B)!;
      const o = ours('train', modelDir, cacheDir, String(B), String(seq), String(steps));
      if (typeof o === 'string') {
        cell.note.push(`ours ${o}`);
        log(`batch ${B}: ours ${o}`);
      } else {
        cold ??= o;
        cell.ours.push(...(o.step_ms as number[]));
        cell.oursRss.push(Number(o.peak_rss_mb));
        log(`batch ${B}: ours ${(o.step_ms as number[]).map((x) => (x / 1000).toFixed(1)).join(', ')} s per step; session ${Number(o.session_s).toFixed(1)} s (${o.cached ? 'warm' : 'cold'} cache); peak RSS ${Number(o.peak_rss_mb).toFixed(0)} MiB`);
      }
      if (typeof peer === 'string') continue;
      // at 2 threads the peer's BLAS may do better with 1 or 2 threads: the first batch tries both
      const tries = r === 0 && B === batches[0] ? [1, 2] : [peerBlas];
      let best: Json | null = null;
      for (const blas of tries) {
        const p = peerRun(B, blas);
        if (typeof p === 'string') {
          cell.note.push(`peer (OpenBLAS ${blas}) ${p}`);
          log(`batch ${B}: peer (torch 2 threads, OpenBLAS ${blas}) ${p}`);
          continue;
        }
        log(`batch ${B}: peer (torch 2 threads, OpenBLAS ${blas}) ${(p.step_ms as number[]).map((x) => (x / 1000).toFixed(1)).join(', ')} s per step; peak RSS ${Number(p.peak_rss_mb).toFixed(0)} MiB`);
        if (!best || median(p.step_ms as number[]) < median(best.step_ms as number[])) {
          best = p;
          peerBlas = blas;
        }
      }
      if (best) {
        cell.peer.push(...(best.step_ms as number[]));
        cell.peerRss.push(Number(best.peak_rss_mb));
      }
    }
  }

  const gen = ours('generate', modelDir, cacheDir, String(genPrompt), String(genNew));
  if (typeof gen === 'string') log(`generation: ${gen}`);
  else log(`generation: ${Number(gen.decode_tokens_per_s).toFixed(2)} tokens/s decoding (${gen.new_tokens} tokens after a ${genPrompt}-token prompt; first token after ${Number(gen.first_token_s).toFixed(2)} s; graphs built in ${Number(gen.prepare_s).toFixed(1)} s); peak RSS ${Number(gen.peak_rss_mb).toFixed(0)} MiB`);

  const train = batches.map((B) => {
    const c = results.get(B)!;
    const o = c.ours.length ? median(c.ours) : null;
    const p = c.peer.length ? median(c.peer) : null;
    const row = {
      batch: B, seq,
      ours_ms: o === null ? null : round(o, 0), peer_ms: p === null ? null : round(p, 0),
      ours_tokens_per_s: o === null ? null : round((B * seq) / (o / 1000)), peer_tokens_per_s: p === null ? null : round((B * seq) / (p / 1000)),
      speedup: o !== null && p !== null ? round(p / o, 3) : null,
      ours_peak_rss_mb: c.oursRss.length ? round(Math.max(...c.oursRss), 0) : null, peer_peak_rss_mb: c.peerRss.length ? round(Math.max(...c.peerRss), 0) : null,
      notes: c.note,
    };
    log(`batch ${B} × ${seq}: ours ${row.ours_tokens_per_s ?? 'n/a'} tokens/s, PyTorch ${row.peer_tokens_per_s ?? 'n/a'} tokens/s, speedup ${row.speedup ?? 'n/a'}`);
    return row;
  });
  const summary = {
    bench: 'models',
    model: 'Qwen2.5-0.5B shapes, random bf16',
    write_s: write && typeof write !== 'string' ? round(Number(write.seconds), 1) : null,
    load: cold ? { folder_check_s: round(Number(cold.check_s), 3), first_session_s: round(Number(cold.session_s), 1), cold_cache: !cold.cached, rss_after_load_mb: round(Number(cold.rss_after_load_mb), 0) } : null,
    train,
    peer_blas_threads: typeof peer === 'string' ? null : peerBlas,
    generate: typeof gen === 'string' ? { error: gen } : { prompt: genPrompt, new_tokens: gen.new_tokens, decode_tokens_per_s: round(Number(gen.decode_tokens_per_s)), first_token_s: round(Number(gen.first_token_s)), peak_rss_mb: round(Number(gen.peak_rss_mb), 0) },
    load_avg: os.loadavg().map((l) => round(l, 1)),
  };
  rmSync(work, { recursive: true, force: true }); // a BENCH_DIR folder lies outside and is kept
  log(JSON.stringify(summary));
}

await main();
