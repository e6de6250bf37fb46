// `npm run bench:engine`: our train step against the same model in PyTorch eager (OpenBLAS),
// interleaved round by round at 1 and 2 threads, medians with min–max; ONNX Runtime's own sgemm
// peak on this CPU, measured right after each config's steps at the same thread count, so the
// peak fraction (matmul FLOPs counted in the emitted graph per step time, over the sgemm rate)
// comes from pairs that saw the same load: its median over rounds of the per-round ratios; the
// eval step (forward only) beside the train step; and the RSS of a session over 256 MiB of base
// weights. `ratio` is likewise the median of per-round ours/peer ratios. CPU times (ours from
// process.cpuUsage, the peer's from time.process_time) are reported beside wall times: on a shared
// machine a 1-thread step's CPU time moves far less than its wall time (at 2 threads it adds the
// threads' work, so its peak fraction is given at 1 thread only). Ends with one line of JSON.
// Env: BENCH_ROUNDS (5), BENCH_CONFIGS (small,medium,large; also bundled), BENCH_THREADS (1,2), BENCH_DEVICE
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
 * ORT's sgemm throughput (GFLOP/s) on one square size, inputs fed each run. Measured right after
 * each config's steps in every round, at the same thread count, so each peak fraction is a ratio
 * of two measurements that saw the same machine load.
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
    const { modelPath } = new GraphCache(path.join(work, 'sgemm')).compile(b.graph, { name: `mm${n}`, producerVersion: 'bench', device: on });
    const session = await runtime.createSession(modelPath, { device: on, threads });
    const data = Float32Array.from({ length: n * n }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
    const s = new Sgemm(session, { a: { dtype: 'float32', shape: [n, n], data }, b: { dtype: 'float32', shape: [n, n], data } }, n, reps);
    await s.measure();
    return s;
  }

  /** GFLOP/s by wall time and by CPU time (medians over the repetitions). */
  async measure(): Promise<{ wall: number; cpu: number }> {
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < this.reps; i++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await this.session.run(this.feeds);
      wall.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
    }
    const gflops = (ms: number) => (2 * this.n ** 3) / (ms / 1000) / 1e9;
    return { wall: gflops(median(wall)), cpu: gflops(median(cpu)) };
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
    const g = (await s.measure()).wall;
    if (!best || g > best.g) {
      await best?.s.release();
      best = { s, g };
    } else {
      await s.release();
    }
  }
  return best!.s;
}

function rssChild(args: string[]): { weights_mb: number; rss_mb: number; pss_mb: number } | undefined {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'tests', 'bench', 'engine-rss.ts'), ...args], { encoding: 'utf8', cwd: ROOT });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{')) {
    log(`rss: the child failed (${args.join(' ')}): ${r.stderr.trim().split('\n').pop()}`);
    return undefined;
  }
  return JSON.parse(line) as { weights_mb: number; rss_mb: number; pss_mb: number };
}

/** One config at one thread count: per-round measurements (index = round). */
interface Cell {
  ours: number[];
  oursCpu: number[];
  evalMs: number[];
  evalCpu: number[];
  peer: number[];
  peerCpu: number[];
  /** ORT sgemm GFLOP/s (wall, CPU) measured right after this cell's steps. */
  sgemm: number[];
  sgemmCpu: number[];
  flops: number;
}

/** Median of per-round ratios a[r] / b[r]. */
const pairedRatio = (a: number[], b: number[]) => median(a.map((x, r) => x / b[r]!));

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
      cells.set(`${c.name}/${t}`, { ours: [], oursCpu: [], evalMs: [], evalCpu: [], peer: [], peerCpu: [], sgemm: [], sgemmCpu: [], flops });
      await s.trainStep(batch); // warm-up
      await s.evalStep(batch);
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
  const sgemm = new Map<number, Sgemm>();
  for (const t of threadCounts) sgemm.set(t, await bestSgemm(t, chosen));

  // interleaved rounds: for every config and thread count, ours (train, then eval), the peer's,
  // then the sgemm peak at that thread count
  const cpuMs = (c0: NodeJS.CpuUsage) => {
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / 1000;
  };
  for (let r = 0; r < rounds; r++) {
    for (const c of configs) {
      for (const t of threadCounts) {
        const cell = cells.get(`${c.name}/${t}`)!;
        const s = sessions.get(`${c.name}/${t}`)!;
        const batch = batches.get(c.name)!;
        let c0 = process.cpuUsage();
        let t0 = performance.now();
        for (let i = 0; i < c.steps; i++) await s.trainStep(batch);
        cell.ours.push((performance.now() - t0) / c.steps);
        cell.oursCpu.push(cpuMs(c0) / c.steps);
        c0 = process.cpuUsage();
        t0 = performance.now();
        for (let i = 0; i < c.steps; i++) await s.evalStep(batch);
        cell.evalMs.push((performance.now() - t0) / c.steps);
        cell.evalCpu.push(cpuMs(c0) / c.steps);
        const ps = peers.get(t);
        if (ps) {
          const runs = [];
          for (const p of ps) runs.push(await p.request({ cmd: 'bench', name: c.name, steps: c.steps }));
          const best = runs.reduce((a, b) => (Number(b.ms) < Number(a.ms) ? b : a));
          cell.peer.push(Number(best.ms));
          cell.peerCpu.push(Number(best.cpu_ms));
        }
        const g = await sgemm.get(t)!.measure();
        cell.sgemm.push(g.wall);
        cell.sgemmCpu.push(g.cpu);
      }
    }
    log(`round ${r + 1}/${rounds} done`);
  }
  for (const s of sessions.values()) await s.release();
  for (const p of [...peers.values()].flat()) p.close();
  for (const g of sgemm.values()) await g.release();

  const range = (xs: number[], digits = 1) => `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`;
  for (const t of threadCounts) {
    const all = configs.flatMap((c) => cells.get(`${c.name}/${t}`)!.sgemm);
    const allCpu = configs.flatMap((c) => cells.get(`${c.name}/${t}`)!.sgemmCpu);
    log(`ORT sgemm peak (${chosen}, ${t} thread${t > 1 ? 's' : ''}, all measurements): ${range(all)} GFLOP/s by wall time${t === 1 ? `, ${range(allCpu)} by CPU time` : ''}`);
  }

  const rows = [];
  for (const c of configs) {
    for (const t of threadCounts) {
      const cell = cells.get(`${c.name}/${t}`)!;
      const hasPeer = cell.peer.length > 0;
      // per round: our matmul GFLOP/s over the sgemm GFLOP/s measured right after
      const fractions = cell.ours.map((ms, r) => cell.flops / (ms / 1000) / 1e9 / cell.sgemm[r]!);
      const fractionsCpu = cell.oursCpu.map((ms, r) => cell.flops / (ms / 1000) / 1e9 / cell.sgemmCpu[r]!);
      const row = {
        config: c.name, threads: t,
        ours_ms: round(median(cell.ours)), peer_ms: hasPeer ? round(median(cell.peer)) : null,
        ratio: hasPeer ? round(pairedRatio(cell.ours, cell.peer), 3) : null,
        peak_fraction: round(median(fractions), 3),
        ours_cpu_ms: round(median(cell.oursCpu)), peer_cpu_ms: hasPeer ? round(median(cell.peerCpu)) : null,
        cpu_ratio: hasPeer ? round(pairedRatio(cell.oursCpu, cell.peerCpu), 3) : null,
        // CPU time measures the work of all threads, so it gives a peak fraction at one thread only
        peak_fraction_cpu: t === 1 ? round(median(fractionsCpu), 3) : null,
        eval_ms: round(median(cell.evalMs)), eval_cpu_ms: round(median(cell.evalCpu)),
      };
      rows.push(row);
      log(
        `${c.name.padEnd(6)} ${t} thread${t > 1 ? 's' : ' '}  train: ours ${fmt(cell.ours)}  peer ${hasPeer ? fmt(cell.peer) : 'n/a'}  ratio ${row.ratio ?? 'n/a'}` +
          ` (per round ${hasPeer ? range(cell.ours.map((x, r) => x / cell.peer[r]!), 2) : 'n/a'})  peak fraction ${range(fractions, 2)}`,
      );
      log(
        `${''.padEnd(16)}CPU time: ours ${fmt(cell.oursCpu)}  peer ${hasPeer ? fmt(cell.peerCpu) : 'n/a'}  ratio ${row.cpu_ratio ?? 'n/a'}${t === 1 ? `  peak fraction ${range(fractionsCpu, 2)}` : ''}` +
          `;  eval step ${fmt(cell.evalMs)}, CPU ${fmt(cell.evalCpu)} (${(median(cell.evalCpu) / median(cell.oursCpu)).toFixed(2)} of a train step)`,
      );
    }
  }

  // memory: a fresh process per measurement, the cache filled first
  const rssCache = path.join(work, 'rss-graphs');
  if (withRss) rssChild(['prepare', rssCache]);
  const auto = withRss ? rssChild(['measure', rssCache, 'auto', 'auto']) : undefined;
  if (auto) log(`rss: ${auto.rss_mb.toFixed(0)} MiB (PSS ${auto.pss_mb.toFixed(0)}) for ${auto.weights_mb.toFixed(0)} MiB of base weights after train, eval and train steps, defaults (prepacked weights, memory arena, no memory pattern)`);
  for (const [prepack, arena, pattern] of withRss ? [['on', 'off', 'auto'], ['off', 'on', 'auto'], ['off', 'off', 'auto'], ['auto', 'auto', 'on']] : []) {
    const r = rssChild(['measure', rssCache, prepack!, arena!, pattern!]);
    if (r) log(`rss: ${r.rss_mb.toFixed(0)} MiB (PSS ${r.pss_mb.toFixed(0)}) with prepacking ${prepack}, memory arena ${arena}, memory pattern ${pattern === 'auto' ? 'off' : pattern}`);
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
