// npm run bench:store — the run store at the size the issue states: 1,000 runs × 10,000 steps ×
// 10 domains (100M metric points), against two peers (tests/bench/store-peers.ts), interleaved,
// medians over repetitions. Ends with one JSON line {"bench":"store",…}.
//
// 1. Insert throughput: the trainer's pattern (a step's values recorded, one commit per batch of
//    steps, synchronous=FULL) on fresh files, ours / naive schema / JSON lines in rotating order.
// 2. Full-size stores, built once and reused from --dir (a rebuild takes minutes): ours through the
//    real MetricsWriter, the naive schema by a bulk SQL fill in the same key order (its query cost
//    depends on its layout, not on how rows arrived), JSON lines with every run.json but the
//    metrics file of the queried runs only (a curve reads one run's file; the others do not matter).
// 3. Queries on the full-size stores: the runs list and one run's curves (all 10 series, steps,
//    values, tokens, wall time), interleaved; plus the first query on a fresh connection, the
//    resume delete of half a run (rolled back), the open with its default integrity check, and the
//    full integrity_check.
//
// Options: --runs N --steps N --domains N --reps N --insert-runs N --batch-steps N --dir DIR
//          --fresh (rebuild) --skip-integrity --keep-insert-files
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { checkIntegrity } from '../../src/main/store/database';
import { latestSchemaVersion, Store } from '../../src/main/store/index';
import { benchValue, JsonlStore, NaiveStore } from './store-peers';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '1000' },
    steps: { type: 'string', default: '10000' },
    domains: { type: 'string', default: '10' },
    reps: { type: 'string', default: '21' },
    'insert-runs': { type: 'string', default: '6' },
    'batch-steps': { type: 'string', default: '100' },
    dir: { type: 'string', default: path.join(os.tmpdir(), 'dynamics-bench-store') },
    fresh: { type: 'boolean', default: false },
    'skip-integrity': { type: 'boolean', default: false },
  },
});
const RUNS = Number(args.runs);
const STEPS = Number(args.steps);
const DOMAINS = Number(args.domains);
const REPS = Number(args.reps);
const INSERT_RUNS = Number(args['insert-runs']);
const BATCH_STEPS = Number(args['batch-steps']);
const DIR = path.resolve(args.dir);
const LAYOUT = `schema ${latestSchemaVersion()}, bench layout 1`;
const APP_VERSION = 'bench';

const log = (text: string) => process.stderr.write(`${text}\n`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round = (x: number, digits = 1) => Number(x.toFixed(digits));
const now = () => performance.now();
const fileSize = (file: string) => (existsSync(file) ? statSync(file).size : 0);
const dbSize = (file: string) => fileSize(file) + fileSize(`${file}-wal`);

function time<T>(fn: () => T): [number, T] {
  const t = now();
  const result = fn();
  return [now() - t, result];
}

/**
 * Wall time and this process's CPU time (user + system) of a call. On a shared machine the wall
 * time includes waiting for a core; the CPU time is what the query itself costs, and is what its
 * wall time becomes on an idle machine (the data sits in the page cache, so there is no I/O wait).
 */
function timeWithCpu<T>(fn: () => T): [number, number, T] {
  const cpu = process.cpuUsage();
  const t = now();
  const result = fn();
  const wall = now() - t;
  const used = process.cpuUsage(cpu);
  return [wall, (used.user + used.system) / 1000, result];
}

// ---------------------------------------------------------------- 1. insert throughput

type System = 'ours' | 'naive' | 'jsonl';
const SYSTEMS: System[] = ['ours', 'naive', 'jsonl'];

function insertOnce(system: System, dir: string, run: number): number {
  const steps = STEPS;
  let points = 0;
  const t = now();
  if (system === 'ours') {
    const store = Store.open(path.join(dir, 'ours.db'), { appVersion: APP_VERSION, check: 'none' });
    const id = store.runs.create({ name: `run ${run}`, config: {}, strategy: 'dynamics', seed: run });
    const writer = store.writerFor(id, { batchSize: Number.MAX_SAFE_INTEGER });
    const domains = Array.from({ length: DOMAINS }, (_, d) => `d${d}`);
    for (let step = 0; step < steps; step++) {
      writer.metrics.record(step, { tokens: step * 4096, wallMs: step * 50 }, domains.map((domain, d) => ({ kind: 'eval_loss', domain, value: benchValue(run, step, d) })));
      if ((step + 1) % BATCH_STEPS === 0) writer.metrics.flush();
    }
    writer.metrics.flush();
    points = steps * DOMAINS;
    store.close();
  } else if (system === 'naive') {
    const store = new NaiveStore(path.join(dir, 'naive.db'));
    store.addRun(run, run);
    for (let step = 0; step < steps; step += BATCH_STEPS) points += store.writeBatch(run, step, Math.min(steps, step + BATCH_STEPS), DOMAINS);
    store.close();
  } else {
    const store = new JsonlStore(path.join(dir, 'jsonl'));
    for (let step = 0; step < steps; step += BATCH_STEPS) points += store.writeBatch(run, step, Math.min(steps, step + BATCH_STEPS), DOMAINS);
  }
  return points / ((now() - t) / 1000);
}

function measureInserts(): Record<System, number[]> {
  const dir = path.join(DIR, 'insert');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const rates: Record<System, number[]> = { ours: [], naive: [], jsonl: [] };
  for (let run = 0; run < INSERT_RUNS; run++) {
    for (let k = 0; k < SYSTEMS.length; k++) {
      const system = SYSTEMS[(run + k) % SYSTEMS.length]!;
      rates[system].push(insertOnce(system, dir, run));
    }
  }
  rmSync(dir, { recursive: true, force: true });
  return rates;
}

// ---------------------------------------------------------------- 2. full-size stores

interface BuildMeta {
  layout: string;
  runs: number;
  steps: number;
  domains: number;
  sample: number[];
  ours: { seconds: number; pointsPerSecond: number };
  naive: { seconds: number; pointsPerSecond: number };
}

/** Run ids queried: spread over the whole store, so no run is conveniently hot. */
function sampleRuns(): number[] {
  const count = Math.min(REPS, RUNS);
  return Array.from({ length: count }, (_, i) => 1 + Math.floor(((i + 0.5) * RUNS) / count));
}

function buildOurs(file: string): BuildMeta['ours'] {
  const started = now();
  let clock = 1_700_000_000_000;
  const store = Store.open(file, { appVersion: APP_VERSION, check: 'none', clock: () => clock });
  const domains = Array.from({ length: DOMAINS }, (_, d) => `d${d}`);
  for (let run = 1; run <= RUNS; run++) {
    clock += 60_000;
    const id = store.runs.create({
      name: `run ${run}`, config: { steps: STEPS, seed: run }, strategy: run % 3 ? 'dynamics' : 'fixed-uniform', seed: run,
      sources: domains, domains: domains.map((d, i) => ({ id: d, role: i === 0 ? 'target' : 'constraint' })), tags: run % 5 ? [] : ['baseline'],
      totalSteps: STEPS,
    });
    if (id !== run) throw new Error(`expected run id ${run}, got ${id}`);
    store.runs.start(id, { device: 'cpu', reason: 'bench' });
    const writer = store.writerFor(id, { batchSize: Number.MAX_SAFE_INTEGER });
    for (let step = 0; step < STEPS; step++) {
      writer.metrics.record(step, { tokens: step * 4096, wallMs: step * 50 }, domains.map((domain, d) => ({ kind: 'eval_loss', domain, value: benchValue(run, step, d) })));
      if ((step + 1) % 1000 === 0) writer.metrics.flush();
    }
    writer.metrics.flush();
    store.runs.setScore(id, { feasible: run % 2 === 0, targetGain: (run % 17) / 100, maxViolation: -0.01, costMultiple: 1.4, selectedStep: STEPS - 1 });
    store.runs.setStatus(id, 'completed');
    if (run % 50 === 0 || run === RUNS) {
      const elapsed = (now() - started) / 1000;
      log(`  ours: ${run}/${RUNS} runs, ${Math.round((run * STEPS * DOMAINS) / elapsed).toLocaleString('en')} points/s, ETA ${Math.round((elapsed / run) * (RUNS - run))} s`);
    }
  }
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  store.close();
  const seconds = (now() - started) / 1000;
  return { seconds: round(seconds), pointsPerSecond: Math.round((RUNS * STEPS * DOMAINS) / seconds) };
}

function buildNaive(file: string): BuildMeta['naive'] {
  const started = now();
  const store = new NaiveStore(file);
  for (let run = 1; run <= RUNS; run++) {
    store.db.transaction(() => {
      store.addRun(run, 1_700_000_000_000 + run * 60_000);
      store.fillRun(run, STEPS, DOMAINS);
    }).immediate();
    if (run % 50 === 0 || run === RUNS) {
      const elapsed = (now() - started) / 1000;
      log(`  naive: ${run}/${RUNS} runs, ETA ${Math.round((elapsed / run) * (RUNS - run))} s`);
    }
  }
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  store.close();
  const seconds = (now() - started) / 1000;
  return { seconds: round(seconds), pointsPerSecond: Math.round((RUNS * STEPS * DOMAINS) / seconds) };
}

function buildJsonl(dir: string, sample: number[]): void {
  rmSync(dir, { recursive: true, force: true });
  const store = new JsonlStore(dir);
  for (let run = 1; run <= RUNS; run++) store.addRun(run, 1_700_000_000_000 + run * 60_000, STEPS - 1);
  for (const run of sample) for (let step = 0; step < STEPS; step += 1000) store.writeBatch(run, step, Math.min(STEPS, step + 1000), DOMAINS);
}

function ensureStores(): BuildMeta {
  const metaFile = path.join(DIR, 'meta.json');
  const sample = sampleRuns();
  if (!args.fresh && existsSync(metaFile)) {
    const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as BuildMeta;
    if (meta.layout === LAYOUT && meta.runs === RUNS && meta.steps === STEPS && meta.domains === DOMAINS && JSON.stringify(meta.sample) === JSON.stringify(sample)) {
      log(`reusing the full-size stores in ${DIR} (built earlier; --fresh rebuilds them)`);
      return meta;
    }
  }
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  log(`building full-size stores in ${DIR}: ${RUNS} runs × ${STEPS} steps × ${DOMAINS} domains (this takes a while once)`);
  const ours = buildOurs(path.join(DIR, 'ours.db'));
  const naive = buildNaive(path.join(DIR, 'naive.db'));
  buildJsonl(path.join(DIR, 'jsonl'), sample);
  const meta: BuildMeta = { layout: LAYOUT, runs: RUNS, steps: STEPS, domains: DOMAINS, sample, ours, naive };
  writeFileSync(metaFile, JSON.stringify(meta, null, 2));
  return meta;
}

// ---------------------------------------------------------------- 3. queries

function main(): void {
  log(`bench:store — ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim()}), load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  log('The machine is shared with other work: figures are indicative; compare ratios, not absolutes.');

  log(`\n1. insert throughput: ${INSERT_RUNS} runs × ${STEPS} steps × ${DOMAINS} domains per system, one commit per ${BATCH_STEPS} steps, interleaved`);
  const inserts = measureInserts();
  const insertMedians = Object.fromEntries(SYSTEMS.map((s) => [s, Math.round(median(inserts[s]))])) as Record<System, number>;
  for (const s of SYSTEMS) log(`  ${s.padEnd(6)} median ${insertMedians[s].toLocaleString('en').padStart(10)} points/s   (runs: ${inserts[s].map((r) => Math.round(r / 1000)).join(', ')} k/s)`);

  log('\n2. full-size stores');
  const meta = ensureStores();
  const oursFile = path.join(DIR, 'ours.db');
  const naiveFile = path.join(DIR, 'naive.db');
  log(`  ours:  ${(dbSize(oursFile) / 2 ** 30).toFixed(2)} GiB, built at ${meta.ours.pointsPerSecond.toLocaleString('en')} points/s through MetricsWriter (${meta.ours.seconds} s)`);
  log(`  naive: ${(dbSize(naiveFile) / 2 ** 30).toFixed(2)} GiB, bulk-filled in SQL (${meta.naive.seconds} s)`);

  const first = Store.open(oursFile, { appVersion: APP_VERSION, check: 'none' });
  const [firstCurvesMs] = time(() => first.reader.curves(meta.sample[0]!));
  const [firstListMs] = time(() => first.reader.list());
  first.close();

  const ours = Store.open(oursFile, { appVersion: APP_VERSION, check: 'none' });
  const naive = new NaiveStore(naiveFile);
  const jsonl = new JsonlStore(path.join(DIR, 'jsonl'));
  const list: Record<System, number[]> = { ours: [], naive: [], jsonl: [] };
  const curves: Record<System, number[]> = { ours: [], naive: [], jsonl: [] };
  const listCpu: Record<System, number[]> = { ours: [], naive: [], jsonl: [] };
  const curvesCpu: Record<System, number[]> = { ours: [], naive: [], jsonl: [] };
  const listers: Record<System, () => unknown[]> = { ours: () => ours.reader.list(), naive: () => naive.list(), jsonl: () => jsonl.list() };
  log(`\n3. queries: ${REPS} repetitions, interleaved; each curves query is a different run (ids ${meta.sample[0]}…${meta.sample.at(-1)})`);
  for (let rep = 0; rep < REPS; rep++) {
    const run = meta.sample[rep % meta.sample.length]!;
    for (let k = 0; k < SYSTEMS.length; k++) {
      const system = SYSTEMS[(rep + k) % SYSTEMS.length]!;
      const [listMs, listCpuMs, listed] = timeWithCpu(listers[system]);
      if (listed.length !== RUNS) throw new Error(`${system} listed ${listed.length} runs`);
      list[system].push(listMs);
      listCpu[system].push(listCpuMs);
      const [curvesMs, curvesCpuMs, series] = timeWithCpu(() => (system === 'ours' ? ours.reader.curves(run).series : system === 'naive' ? naive.curves(run) : jsonl.curves(run)));
      // Like for like: every system returns all series, each complete, with the same values.
      if (series.length !== DOMAINS || series.some((s) => s.steps.length !== STEPS || s.tokens.length !== STEPS || s.wallMs.length !== STEPS)) {
        throw new Error(`${system} returned incomplete curves for run ${run}`);
      }
      const last = series[DOMAINS - 1]!;
      if (Math.abs(last.values[STEPS - 1]! - benchValue(run, STEPS - 1, DOMAINS - 1)) > 1e-9) throw new Error(`${system} returned a wrong value for run ${run}`);
      curves[system].push(curvesMs);
      curvesCpu[system].push(curvesCpuMs);
    }
  }
  const listMed = Object.fromEntries(SYSTEMS.map((s) => [s, round(median(list[s]), 2)])) as Record<System, number>;
  const curvesMed = Object.fromEntries(SYSTEMS.map((s) => [s, round(median(curves[s]), 1)])) as Record<System, number>;
  const listCpuMed = Object.fromEntries(SYSTEMS.map((s) => [s, round(median(listCpu[s]), 2)])) as Record<System, number>;
  const curvesCpuMed = Object.fromEntries(SYSTEMS.map((s) => [s, round(median(curvesCpu[s]), 1)])) as Record<System, number>;
  log('  medians of wall time (CPU time of this process in brackets):');
  const row = (wall: Record<System, number>, cpu: Record<System, number>) =>
    SYSTEMS.map((s) => `${s} ${wall[s]} ms [${cpu[s]}]${s === 'ours' ? '' : ` ×${round(wall[s] / wall.ours, 2)}`}`).join('   ');
  log(`  runs list (${RUNS} runs):                ${row(listMed, listCpuMed)}   goal < 50 ms`);
  log(`  one run's curves (${(STEPS * DOMAINS).toLocaleString('en')} points):  ${row(curvesMed, curvesCpuMed)}   goal < 100 ms`);
  log(`  first query on a fresh connection (SQLite cache empty, OS cache as it is): curves ${round(firstCurvesMs)} ms, list ${round(firstListMs, 2)} ms`);
  naive.close();

  // Resume: delete the second half of a run's rows (what resumeFrom does), rolled back.
  const resumeRun = meta.sample.at(-1)!;
  const resumeMs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = now();
    try {
      ours.db.transaction(() => {
        ours.runs.deleteRowsAfter(resumeRun, STEPS / 2 - 1);
        resumeMs.push(now() - t);
        throw new Error('roll back');
      }).immediate();
    } catch (err) {
      if ((err as Error).message !== 'roll back') throw err;
    }
  }
  log(`  resume delete of ${((STEPS / 2) * DOMAINS).toLocaleString('en')} points (rolled back): ${round(median(resumeMs))} ms`);
  ours.close();

  // What every open costs with the default check ('auto': the run-state tables at this size), and
  // what the full integrity_check would cost instead.
  const openMs: number[] = [];
  for (let i = 0; i < 3; i++) openMs.push(time(() => Store.open(oursFile, { appVersion: APP_VERSION }).close())[0]);
  log(`  open with the default check (auto → run-state tables at this size): ${round(median(openMs))} ms`);
  let fullCheckSeconds: number | null = null;
  if (!args['skip-integrity']) {
    const raw = Store.open(oursFile, { appVersion: APP_VERSION, check: 'none' });
    fullCheckSeconds = round(time(() => checkIntegrity(raw.db, oursFile, 'full'))[0] / 1000, 2);
    raw.close();
    log(`  full integrity_check of the whole file: ${fullCheckSeconds} s (why open does not run it at this size)`);
  }

  const result = {
    bench: 'store',
    scale: { runs: RUNS, steps: STEPS, domains: DOMAINS, points: RUNS * STEPS * DOMAINS },
    note: 'shared noisy machine: indicative figures; query latencies on the full-size stores; jsonl peer holds metrics files for the queried runs only',
    insert: { batchSteps: BATCH_STEPS, runs: INSERT_RUNS, pointsPerSecond: insertMedians, ratioOursOverNaive: round(insertMedians.ours / insertMedians.naive, 2) },
    build: { ours: meta.ours, naive: meta.naive },
    listCpuMs: listCpuMed,
    curvesCpuMs: curvesCpuMed,
    listMs: { ...listMed, goal: 50, ratioNaiveOverOurs: round(listMed.naive / listMed.ours, 2), ratioJsonlOverOurs: round(listMed.jsonl / listMed.ours, 2) },
    curvesMs: { ...curvesMed, goal: 100, ratioNaiveOverOurs: round(curvesMed.naive / curvesMed.ours, 2), ratioJsonlOverOurs: round(curvesMed.jsonl / curvesMed.ours, 2) },
    firstQueryMs: { curves: round(firstCurvesMs), list: round(firstListMs, 2) },
    resumeDeleteMs: round(median(resumeMs)),
    openMs: round(median(openMs)),
    fullIntegrityCheckSeconds: fullCheckSeconds,
    bytes: { ours: dbSize(oursFile), naive: dbSize(naiveFile) },
    goalsMet: { list: listMed.ours < 50, curves: curvesMed.ours < 100 },
    goalsMetByCpuTime: { list: listCpuMed.ours < 50, curves: curvesCpuMed.ours < 100 },
    reps: REPS,
    loadAverage: os.loadavg().map((x) => round(x, 2)),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main();
