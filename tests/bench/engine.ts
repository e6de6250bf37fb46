// `npm run bench:engine`: our train step against the same model in PyTorch eager (OpenBLAS),
// interleaved round by round at 1 and 2 threads, medians with min–max; ONNX Runtime's own sgemm
// peak on this CPU (for the peak fraction, from matmul FLOPs counted in the emitted graph); and
// the RSS of a session over 256 MiB of base weights. Ends with one line of JSON.
// Env: BENCH_ROUNDS (5), BENCH_CONFIGS (small,medium,large), BENCH_THREADS (1,2), BENCH_DEVICE
// (cpu | cuda | auto), BENCH_PEER=off and BENCH_RSS=off to skip those parts (the GPU check does).
// On CUDA the sgemm peak is ORT's CUDA MatMul fed from host memory.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GraphBuilder } from '../../src/main/engine/ir/builder';
import { GraphCache } from '../../src/main/engine/onnx/graph-cache';
import type { Device, DevicePreference, RuntimeSession, Tensor } from '../../src/main/engine/runtime-api';
import { OrtRuntime } from '../../src/main/engine/runtime/ort-runtime';
import { TrainingSession } from '../../src/main/engine/training-session';
import { parameterShapes } from '../../src/main/engine/graphs';
import { BENCH_CONFIGS, benchBatch, benchWeights } from './engine-configs';
import { findPeer, Peer, ROOT, writeSafetensors } from './engine-peer';

const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const configNames = (process.env.BENCH_CONFIGS ?? 'small,medium,large').split(',');
const threadCounts = (process.env.BENCH_THREADS ?? '1,2').split(',').map(Number);
const device = (process.env.BENCH_DEVICE ?? 'cpu') as DevicePreference;
const withPeer = process.env.BENCH_PEER !== 'off';
const withRss = process.env.BENCH_RSS !== 'off';
const work = mkdtempSync(path.join(os.tmpdir(), 'dynamics-bench-engine-'));
const runtime = new OrtRuntime();
const log = (s: string) => process.stdout.write(`${s}\n`);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (xs: number[]) => `${median(xs).toFixed(1)} ms (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`;

/**
 * ORT's sgemm throughput (GFLOP/s) on one square size, inputs fed each run. Measured once per
 * round, between the step measurements, so the peak sees the same machine load as the steps.
 */
class Sgemm {
  private constructor(
    private readonly session: RuntimeSession,
    private readonly feeds: Record<string, Tensor>,
    private readonly n: number,
    private readonly reps: number,
  ) {}

  static async open(n: number, reps: number, threads: number, on: Device): Promise<Sgemm> {
    const b = new GraphBuilder('float32');
    b.output('c', b.matmul(b.input('a', [n, n], 'float32'), b.input('b', [n, n], 'float32')));
    const { modelPath } = new GraphCache(path.join(work, 'sgemm')).compile(b.graph, { name: `mm${n}`, producerVersion: 'bench' });
    const session = await runtime.createSession(modelPath, { device: on, threads });
    const data = Float32Array.from({ length: n * n }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
    const s = new Sgemm(session, { a: { dtype: 'float32', shape: [n, n], data }, b: { dtype: 'float32', shape: [n, n], data } }, n, reps);
    await s.measure();
    return s;
  }

  async measure(): Promise<number> {
    const ts: number[] = [];
    for (let i = 0; i < this.reps; i++) {
      const t0 = performance.now();
      await this.session.run(this.feeds);
      ts.push(performance.now() - t0);
    }
    return (2 * this.n ** 3) / (median(ts) / 1000) / 1e9;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/** The size at which ORT's sgemm is fastest here (the peak fraction's denominator uses it). */
async function bestSgemm(threads: number, on: Device): Promise<Sgemm> {
  let best: { s: Sgemm; g: number } | undefined;
  for (const [n, reps] of [[512, 40], [1024, 12], [2048, 4]] as const) {
    const s = await Sgemm.open(n, reps, threads, on);
    const g = await s.measure();
    if (!best || g > best.g) {
      await best?.s.release();
      best = { s, g };
    } else {
      await s.release();
    }
  }
  return best!.s;
}

function rssChild(args: string[]): { weights_mb: number; rss_mb: number } | undefined {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'tests', 'bench', 'engine-rss.ts'), ...args], { encoding: 'utf8', cwd: ROOT });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{')) {
    log(`rss: the child failed (${args.join(' ')}): ${r.stderr.trim().split('\n').pop()}`);
    return undefined;
  }
  return JSON.parse(line) as { weights_mb: number; rss_mb: number };
}

interface Cell {
  ours: number[];
  peer: number[];
  flops: number;
}

async function main(): Promise<void> {
  const configs = BENCH_CONFIGS.filter((c) => configNames.includes(c.name));
  log(`engine benchmark: ${configs.map((c) => c.name).join(', ')}; threads ${threadCounts.join(', ')}; ${rounds} rounds; device ${device}`);
  log(`machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} logical CPUs, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} (shared machines give noisy timings)`);

  // the peer: one process per thread setting; at 2 threads both BLAS settings run and the faster counts
  const setup = withPeer ? findPeer() : 'not asked for (BENCH_PEER=off)';
  const peers = new Map<number, Peer[]>();
  if (typeof setup === 'string') {
    log(`peer: skipped, ${setup}`);
  } else {
    for (const t of threadCounts) {
      const variants = t === 1 ? [[1, 1]] : [[t, t], [t, 1]];
      peers.set(t, variants.map(([torch, blas]) => new Peer(setup, `torch ${torch} / openblas ${blas}`, torch!, blas!)));
    }
    const info = await Promise.all([...peers.values()].flat().map((p) => p.ready()));
    log(`peer: PyTorch ${String(info[0]?.torch)} eager, OpenBLAS from ${setup.openblasDir}`);
  }

  // sessions and peer models for every config and thread count
  const sessions = new Map<string, TrainingSession>();
  const cells = new Map<string, Cell>();
  const batches = new Map<string, ReturnType<typeof benchBatch>>();
  for (const c of configs) {
    const weights = benchWeights(c);
    const batch = benchBatch(c);
    batches.set(c.name, batch);
    for (const t of threadCounts) {
      const s = await TrainingSession.create({
        runtime, cacheDir: path.join(work, 'graphs'), model: c.model, baseWeights: weights, adapter: c.adapter,
        batchSize: c.batchSize, seqLen: c.seqLen, device, threads: t, seed: 3, nonZeroLoraB: true, schedule: { kind: 'constant', lr: 1e-6 },
      });
      sessions.set(`${c.name}/${t}`, s);
      const flops = s.graph().matmulFlops;
      cells.set(`${c.name}/${t}`, { ours: [], peer: [], flops });
      await s.trainStep(batch); // warm-up
    }
    if (peers.size > 0) {
      const s = sessions.get(`${c.name}/${threadCounts[0]}`)!;
      const file = path.join(work, `${c.name}.safetensors`);
      const tensors: Record<string, { shape: readonly number[]; data: Float32Array | Int32Array }> = {
        input_ids: { shape: [c.batchSize, c.seqLen], data: batch.inputIds },
        labels: { shape: [c.batchSize, c.seqLen], data: batch.labels },
      };
      for (const t of s.trainableTensors()) tensors[`lora.${t.name}`] = { shape: t.shape, data: t.data as Float32Array };
      for (const p of parameterShapes(c.model)) tensors[`base.${p.name}`] = { shape: p.shape, data: weights.get(p.name)! };
      writeSafetensors(file, tensors);
      for (const p of [...peers.values()].flat()) await p.request({ cmd: 'load', name: c.name, path: file, config: c.model, lora: { r: c.adapter.r, alpha: c.adapter.alpha } });
    }
    log(`${c.name}: built and warmed (${(sessions.get(`${c.name}/${threadCounts[0]}`)!.graph().nodes)} nodes in the train graph, ${(cells.get(`${c.name}/${threadCounts[0]}`)!.flops / 1e9).toFixed(2)} GFLOP of matmuls per step)`);
  }

  const chosen = (await runtime.chooseDevice(device)).device;
  const sgemm = new Map<number, { s: Sgemm; gflops: number[] }>();
  for (const t of threadCounts) sgemm.set(t, { s: await bestSgemm(t, chosen), gflops: [] });

  // interleaved rounds: for every config and thread count, ours then the peer's; then the sgemm peak
  for (let r = 0; r < rounds; r++) {
    for (const c of configs) {
      for (const t of threadCounts) {
        const cell = cells.get(`${c.name}/${t}`)!;
        const s = sessions.get(`${c.name}/${t}`)!;
        const batch = batches.get(c.name)!;
        const t0 = performance.now();
        for (let i = 0; i < c.steps; i++) await s.trainStep(batch);
        cell.ours.push((performance.now() - t0) / c.steps);
        const ps = peers.get(t);
        if (ps) {
          const ms = [];
          for (const p of ps) ms.push(Number((await p.request({ cmd: 'bench', name: c.name, steps: c.steps })).ms));
          cell.peer.push(Math.min(...ms));
        }
      }
    }
    for (const g of sgemm.values()) g.gflops.push(await g.s.measure());
    log(`round ${r + 1}/${rounds} done`);
  }
  for (const s of sessions.values()) await s.release();
  for (const p of [...peers.values()].flat()) p.close();

  const peaks = new Map<number, number>();
  for (const [t, g] of sgemm) {
    peaks.set(t, median(g.gflops));
    await g.s.release();
  }
  log(`ORT sgemm peak (${chosen}, median over rounds): ${threadCounts.map((t) => `${t} thread${t > 1 ? 's' : ''} ${peaks.get(t)!.toFixed(1)} GFLOP/s (${Math.min(...sgemm.get(t)!.gflops).toFixed(1)}–${Math.max(...sgemm.get(t)!.gflops).toFixed(1)})`).join(', ')}`);

  const rows = [];
  for (const c of configs) {
    for (const t of threadCounts) {
      const cell = cells.get(`${c.name}/${t}`)!;
      const ours = median(cell.ours);
      const peer = cell.peer.length > 0 ? median(cell.peer) : null;
      const gflops = cell.flops / (ours / 1000) / 1e9;
      const row = { config: c.name, threads: t, ours_ms: round(ours), peer_ms: peer === null ? null : round(peer), ratio: peer === null ? null : round(ours / peer, 3), peak_fraction: round(gflops / peaks.get(t)!, 3) };
      rows.push(row);
      log(`${c.name.padEnd(6)} ${t} thread${t > 1 ? 's' : ' '}  ours ${fmt(cell.ours)}  peer ${cell.peer.length ? fmt(cell.peer) : 'n/a'}  ratio ${row.ratio ?? 'n/a'}  peak fraction ${row.peak_fraction} (${gflops.toFixed(1)} GFLOP/s)`);
    }
  }

  // memory: a fresh process per measurement, the cache filled first
  const rssCache = path.join(work, 'rss-graphs');
  if (withRss) rssChild(['prepare', rssCache]);
  const auto = withRss ? rssChild(['measure', rssCache, 'auto', 'auto']) : undefined;
  if (auto) log(`rss: ${auto.rss_mb.toFixed(0)} MiB for ${auto.weights_mb.toFixed(0)} MiB of base weights, defaults (prepacked weights, memory arena)`);
  for (const [prepack, arena] of withRss ? [['on', 'off'], ['off', 'on'], ['off', 'off']] : []) {
    const r = rssChild(['measure', rssCache, prepack!, arena!]);
    if (r) log(`rss: ${r.rss_mb.toFixed(0)} MiB with prepacking ${prepack}, memory arena ${arena}`);
  }
  // the emission form of a weight used forward and backward (why linear layers emit Gemm transB=1)
  for (const [form, prepack] of withRss ? [['gemm', 'on'], ['transposed', 'on'], ['gemm', 'off'], ['transposed', 'off']] : []) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'tests', 'bench', 'engine-emission.ts'), form!, prepack!, path.join(work, 'emission')], { encoding: 'utf8', cwd: ROOT });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    if (line.startsWith('{')) {
      const e = JSON.parse(line) as { rss_mb: number; weights_mb: number; step_ms: number };
      log(`emission ${form!.padEnd(10)} prepacking ${prepack}: ${e.rss_mb.toFixed(0)} MiB RSS for ${e.weights_mb} MiB of W, forward + backward ${e.step_ms.toFixed(0)} ms`);
    }
  }
  rmSync(work, { recursive: true, force: true });
  const rss = auto ? { weights_mb: round(auto.weights_mb), rss_mb: round(auto.rss_mb), ratio: round(auto.rss_mb / auto.weights_mb, 3) } : null;
  log(JSON.stringify({ bench: 'engine', rows, rss }));
}

function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

await main();
