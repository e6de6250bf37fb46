// `npm run bench:ui`: how long the compare view takes to draw 20 runs × 10,000 points per curve in
// real Chromium (Debian's, through playwright-core) against `dynamics serve` on a seeded store.
// - ours, first view: the first page after the server started, opened on #/compare?ids=… until
//   the view's own mark 'dynamics:compare-drawn' (every curve chart drawn), measured from
//   navigation start: page load, API calls (curves read from SQLite and downsampled by the core),
//   Vue, ECharts. Once per run of the benchmark (the core then keeps finished runs' curves).
// - ours, new page: the same on a fresh page later (the core's curve cache warm).
// - ours, in app: the same view opened from another view of a loaded app (what a user clicking
//   "Compare" waits for), from a mark set just before the route change to the drawn mark.
// - peer: the straightforward implementation — the same raw curves (every point) fetched as one
//   JSON document and drawn with ECharts directly, one chart per domain plus the train loss, no
//   framework, no downsampling — until every chart's 'finished' event.
// Interleaved rounds; medians and ratios; one JSON line at the end. Figures are indicative on a
// shared 2-core machine. Needs `npm run build` (the served UI) and Chromium.
import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { Store } from '../../src/main/store/index';
import { dataLayout } from '../../src/main/paths';
import { launchBrowser, repoRoot, startServe } from '../e2e/harness';
import { SEED_DOMAINS, seedRuns } from './ui-seed';

const RUNS = Number(process.env.BENCH_UI_RUNS ?? 20);
const STEPS = Number(process.env.BENCH_UI_STEPS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_UI_ROUNDS ?? 5);

const PROFILE = process.env.BENCH_UI_PROFILE === '1';

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

/** The functions that took the most time themselves (minified names: url:line:column finds them in the bundle). */
function printProfile(profile: CpuProfile): void {
  const byNode = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const f = byNode.get(id)!;
    const key = `${f.functionName || '(anonymous)'} ${path.basename(f.url) || '-'}:${f.lineNumber + 1}:${f.columnNumber + 1}`;
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    total += dt;
    self.set(key, (self.get(key) ?? 0) + dt);
  });
  console.log(`  profile of the in-app view: ${total.toFixed(0)} ms sampled; top self time:`);
  for (const [key, ms] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`    ${ms.toFixed(1).padStart(7)} ms  ${key}`);
}

interface CallTiming {
  name: string;
  n: number;
  waitMs: number;
  downloadMs: number;
  kB: number;
  endMs: number;
}
interface PageTimings {
  drawnAt: number;
  scriptAt: number;
  curvesAt: number;
  dataAt: number;
  calls: CallTiming[];
}

/**
 * Runs in the page: when the view was drawn and what its API calls took (per call name: how many,
 * the server's time to the first byte (median), the slowest download, bytes, when the last one
 * ended), all from `since` (a mark) or from navigation start.
 */
function pageTimings(since: string | null): PageTimings {
  const go = since ? performance.getEntriesByName(since)[0]!.startTime : 0;
  const resources = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
  const api = resources.filter((e) => e.name.includes('/api/call/'));
  const byName = new Map<string, PerformanceResourceTiming[]>();
  for (const e of api) {
    const name = e.name.slice(e.name.indexOf('/api/call/') + 10);
    byName.set(name, [...(byName.get(name) ?? []), e]);
  }
  const calls = [...byName].map(([name, es]) => {
    const waits = es.map((e) => e.responseStart - e.requestStart).sort((a, b) => a - b);
    return {
      name, n: es.length, waitMs: Math.round(waits[Math.floor(waits.length / 2)]!), downloadMs: Math.round(Math.max(...es.map((e) => e.responseEnd - e.responseStart))),
      kB: Math.round(es.reduce((t, e) => t + e.encodedBodySize, 0) / 1024), endMs: Math.round(Math.max(...es.map((e) => e.responseEnd)) - go),
    };
  });
  const scripts = resources.filter((e) => e.initiatorType === 'script' || e.name.endsWith('.js'));
  return {
    drawnAt: performance.getEntriesByName('dynamics:compare-drawn')[0]!.startTime - go,
    scriptAt: scripts.length ? Math.max(...scripts.map((e) => e.responseEnd)) - go : 0,
    curvesAt: Math.max(...api.filter((e) => e.name.includes('/api/call/runs.compare')).map((e) => e.responseEnd)) - go,
    dataAt: Math.max(...api.map((e) => e.responseEnd)) - go,
    calls,
  };
}

function describeCalls(t: PageTimings): string {
  return `data received at ${t.dataAt.toFixed(0)} ms; ${t.calls.map((c) => `${c.name} ×${c.n}: server ${c.waitMs} ms, download ${c.downloadMs} ms, ${c.kB} kB, done at ${c.endMs} ms`).join('; ')}`;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const PEER_HTML = `<!doctype html><html><head><meta charset="utf-8"><title>peer</title>
<style>body{margin:0;font:12px sans-serif;display:grid;grid-template-columns:repeat(2,620px);gap:8px}div.c{width:620px;height:300px}</style>
<script src="/echarts.min.js"></script></head><body><script>
(async () => {
  const data = await (await fetch('/data.json')).json();
  const panels = [...Object.keys(data.eval).map((d) => [d, data.eval[d]]), ['train loss', data.train]];
  let left = panels.length;
  for (const [title, runs] of panels) {
    const el = document.createElement('div'); el.className = 'c'; document.body.appendChild(el);
    const chart = echarts.init(el, null, { renderer: 'canvas' });
    chart.on('finished', function once() {
      chart.off('finished', once);
      if (--left === 0) { performance.mark('peer:drawn'); window.__drawn = true; }
    });
    chart.setOption({
      animation: false, title: { text: title, textStyle: { fontSize: 12 } }, tooltip: { trigger: 'axis' },
      xAxis: { type: 'value' }, yAxis: { type: 'value', scale: true },
      series: runs.map(([steps, values]) => ({ type: 'line', showSymbol: false, data: steps.map((s, i) => [s, values[i]]) })),
    });
  }
})();
</script></body></html>`;

async function main(): Promise<void> {
  if (!existsSync(path.join(repoRoot, 'out', 'renderer', 'index.html'))) throw new Error('the app is not built: run `npm run build` first');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dynamics-bench-ui-'));
  let server: Server | undefined;
  try {
    const t0 = performance.now();
    const layout = dataLayout(dir);
    mkdirSync(layout.root, { recursive: true });
    const store = Store.open(layout.database, { appVersion: 'bench' });
    const ids = seedRuns(store, RUNS, STEPS);
    // The peer's document: every stored point, as the naive client would ask for them.
    const evalCurves: Record<string, [number[], number[]][]> = Object.fromEntries(SEED_DOMAINS.map((d) => [d.id, []]));
    const train: [number[], number[]][] = [];
    for (const id of ids) {
      for (const s of store.reader.curves(id, { kind: 'eval_loss' }).series) evalCurves[s.domain]!.push([s.steps, s.values]);
      const t = store.reader.curves(id, { kind: 'train_loss' }).series[0]!;
      train.push([t.steps, t.values]);
    }
    store.close();
    const peerData = JSON.stringify({ eval: evalCurves, train });
    console.log(`seeded ${RUNS} runs × ${STEPS} steps × ${SEED_DOMAINS.length + 1} curves in ${((performance.now() - t0) / 1000).toFixed(1)} s; peer document ${(peerData.length / 2 ** 20).toFixed(1)} MiB`);

    const echartsJs = readFileSync(path.join(repoRoot, 'node_modules', 'echarts', 'dist', 'echarts.min.js'));
    server = createServer((req, res) => {
      if (req.url === '/echarts.min.js') res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(echartsJs);
      else if (req.url === '/data.json') res.writeHead(200, { 'Content-Type': 'application/json' }).end(peerData);
      else res.writeHead(200, { 'Content-Type': 'text/html' }).end(PEER_HTML);
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const peerUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

    const serve = await startServe(dir);
    const browser = await launchBrowser();
    const compareHash = `#/compare?ids=${ids.join(',')}`;
    const rows: { oursCold: number; oursInApp: number; curvesAt: number; peer: number }[] = [];
    let firstView = 0;
    try {
      for (let round = 0; round <= ROUNDS; round++) {
        const ctx = await browser.newContext({ viewport: { width: 1360, height: 900 } });
        const page = await ctx.newPage();
        await page.goto(`${serve.openUrl}${compareHash}`);
        await page.waitForFunction(() => performance.getEntriesByName('dynamics:compare-drawn').length > 0, null, { timeout: 120_000 });
        const cold = await page.evaluate(pageTimings, null);
        const oursCold = cold.drawnAt;
        if (round === 0) {
          mkdirSync(path.join(repoRoot, 'test-results', 'bench'), { recursive: true });
          await page.screenshot({ path: path.join(repoRoot, 'test-results', 'bench', 'compare-20-runs.png'), fullPage: true });
        }
        await page.evaluate(() => (location.hash = '#/runs'));
        await page.getByTestId('runs-table').waitFor();
        // BENCH_UI_PROFILE=1: a CPU profile of the last round's in-app view, its top functions by self time.
        const cdp = PROFILE && round === ROUNDS ? await ctx.newCDPSession(page) : null;
        if (cdp) {
          await cdp.send('Profiler.enable');
          await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
          await cdp.send('Profiler.start');
        }
        await page.evaluate((hash) => {
          performance.clearMarks();
          performance.clearResourceTimings();
          performance.mark('bench:go');
          location.hash = hash;
        }, compareHash);
        await page.waitForFunction(() => performance.getEntriesByName('dynamics:compare-drawn').length > 0, null, { timeout: 120_000 });
        if (cdp) printProfile((await cdp.send('Profiler.stop')).profile as CpuProfile);
        const inApp = await page.evaluate(pageTimings, 'bench:go');
        const oursInApp = inApp.drawnAt;
        const { curvesAt, dataAt } = inApp;
        await ctx.close();

        const pctx = await browser.newContext({ viewport: { width: 1360, height: 900 } });
        const peerPage = await pctx.newPage();
        await peerPage.goto(peerUrl);
        await peerPage.waitForFunction(() => (window as unknown as { __drawn?: boolean }).__drawn === true, null, { timeout: 300_000 });
        const peer = await peerPage.evaluate(() => performance.getEntriesByName('peer:drawn')[0]!.startTime);
        await pctx.close();
        // Round 0 is the first view after the server started; its other figures warm caches and are not counted.
        console.log(`round ${round}${round === 0 ? ' (first view; warm-up)' : ''}: ours ${round === 0 ? 'first view' : 'new page'} ${oursCold.toFixed(0)} ms, ours in app ${oursInApp.toFixed(0)} ms (curves received at ${curvesAt.toFixed(0)} ms), peer ${peer.toFixed(0)} ms`);
        console.log(`  where the ${round === 0 ? 'first view' : 'new page'}'s time went: the app's script loaded at ${cold.scriptAt.toFixed(0)} ms; ${describeCalls(cold)}; drawn ${(oursCold - cold.dataAt).toFixed(0)} ms after the last answer`);
        console.log(`  where the in-app time went: ${describeCalls(inApp)}; drawn ${(oursInApp - dataAt).toFixed(0)} ms after the last answer`);
        if (round === 0) firstView = oursCold;
        else rows.push({ oursCold, oursInApp, curvesAt, peer });
      }
    } finally {
      await browser.close();
      await serve.stop();
    }
    const m = { oursCold: median(rows.map((r) => r.oursCold)), oursInApp: median(rows.map((r) => r.oursInApp)), curvesAt: median(rows.map((r) => r.curvesAt)), peer: median(rows.map((r) => r.peer)) };
    console.log(`first view after start ${firstView.toFixed(0)} ms; median over ${rows.length} rounds: ours new page ${m.oursCold.toFixed(0)} ms, ours in app ${m.oursInApp.toFixed(0)} ms (curves received at ${m.curvesAt.toFixed(0)} ms, drawn ${(m.oursInApp - m.curvesAt).toFixed(0)} ms later), peer ${m.peer.toFixed(0)} ms; peer / ours in app ${(m.peer / m.oursInApp).toFixed(2)}×; goal: in-app render under 500 ms`);
    console.log(JSON.stringify({
      bench: 'ui', runs: RUNS, pointsPerCurve: STEPS, curvesPerRun: SEED_DOMAINS.length + 1, rounds: rows.length,
      firstViewMs: Math.round(firstView), oursNewPageMs: Math.round(m.oursCold), oursInAppMs: Math.round(m.oursInApp), oursCurvesReceivedMs: Math.round(m.curvesAt), peerMs: Math.round(m.peer),
      peerOverOursInApp: Number((m.peer / m.oursInApp).toFixed(2)), underGoal: m.oursInApp < 500,
    }));
  } finally {
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
