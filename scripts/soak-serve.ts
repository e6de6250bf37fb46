// `npm run soak:serve -- [--seconds N] [--clients N] [--rss-limit-mib N] [--keep]`: `dynamics serve`
// (the built CLI, in its own process, on 127.0.0.1 only) under a bounded mix of valid and malformed
// calls while runs train, with one WebSocket client that reads its events only now and then and
// one that reads them all. Runs of a small config are started one after another for the whole
// time. Checks: the server never exits, every valid call is answered ok, every malformed one gets
// a 4xx (or its connection closed), the server's RSS stays under the limit (its peak printed), and
// every completed run has all its rows (a progress row per step, every evaluation of every
// domain). Ends with one JSON line; exit 1 when a check failed.
//   --seconds N        how long the load lasts (default 120)
//   --clients N        concurrent callers (default 4)
//   --rss-limit-mib N  the server's RSS must stay below this (default 1024)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { parse as parseYaml } from 'yaml';
import { Store } from '../src/main/store/index';
import { rawExchange } from '../tests/helpers/raw-http';
import { writeTinyCorpora, writeTinyModel } from '../tests/main/runner/tiny-fixtures';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const seconds = Number(arg('--seconds') ?? 120);
const clients = Number(arg('--clients') ?? 4);
const rssLimitMiB = Number(arg('--rss-limit-mib') ?? 1024);
const keep = process.argv.includes('--keep');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const STEPS = 24;
const EVAL_INTERVAL = 4;
const DOMAINS = ['code', 'email', 'licenses'];
const CONFIG = `# The soak's run: small enough to train on a CPU in well under a minute.
name: soak
seed: 5
device: cpu
model:
  path: tiny-model
  adapter: { kind: lora, rank: 4, alpha: 8, targets: [q_proj, v_proj] }
sources:
  - { id: code, dataset: corpora/code }
  - { id: email, dataset: corpora/email }
domains:
  - { id: code, dataset: corpora/code, role: target }
  - { id: email, dataset: corpora/email, role: constraint, reference: { kind: relative, tolerance: 0.002 } }
  - { id: licenses, dataset: corpora/licenses, role: monitor }
training:
  steps: ${STEPS}
  batchSize: 2
  seqLength: 32
  learningRate: 0.004
evaluation:
  interval: ${EVAL_INTERVAL}
  regularBatches: 2
  probeBatches: 1
  testBatches: 1
dynamics:
  schedule: { kind: list, steps: [0, 8, 16] }
  probeCap: 2
`;

interface Reply {
  status: number;
  body: string;
}

/** One HTTP exchange over a raw socket (so malformed requests go out as written), with its status. */
async function rawReply(port: number, bytes: string): Promise<Reply> {
  const text = await rawExchange(port, bytes, { timeoutMs: 5000, quietMs: 100 });
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), body: text.slice(text.indexOf('\r\n\r\n') + 4) };
}

async function call(port: number, token: string, name: string, input?: unknown): Promise<{ status: number; ok: boolean; value: unknown; error?: { message: string } }> {
  const res = await fetch(`http://127.0.0.1:${port}/api/call/${name}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({ input }),
  });
  const body = (await res.json()) as { ok: boolean; value: unknown; error?: { message: string } };
  return { status: res.status, ...body };
}

/**
 * Malformed requests. Each must get a 4xx, an error as data, or a closed connection, except
 * `GET //[`, the request that used to kill the server: a path the UI's router may handle, so the
 * page may be served.
 */
function malformed(port: number, token: string): string[] {
  const host = `127.0.0.1:${port}`;
  const auth = `Authorization: Bearer ${token}\r\n`;
  return [
    `GET //[ HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
    `POST /api/call//[ HTTP/1.1\r\nHost: ${host}\r\n${auth}Content-Length: 2\r\n\r\n{}`,
    `GET //[ HTTP/1.1\r\nHost: ${host}\r\nOrigin: http://evil.example\r\n\r\n`,
    `GET * HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
    `\u0000\u0001garbage\r\n\r\n`,
    `GET / HTTP/1.1\r\nHost: ${host}\r\nBad Header\r\n\r\n`,
    `POST /api/call/system.info HTTP/1.1\r\nHost: ${host}\r\n${auth}Content-Length: 8\r\n\r\n{not js}`,
    `POST /api/call/system.info HTTP/1.1\r\nHost: ${host}\r\n${auth}Content-Length: 999999999\r\n\r\n{}`,
    `POST /api/call/system.info HTTP/1.1\r\nHost: ${host}\r\n${auth}Content-Length: 20000\r\n\r\n{"input":${'['.repeat(19_990)}`,
    `POST /api/call/system.info?token=${token} HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 2\r\n\r\n{}`,
    `POST /api/call/system.info HTTP/1.1\r\nHost: ${host}\r\n${auth}Origin: http://evil.example\r\nContent-Length: 2\r\n\r\n{}`,
    `POST /api/call/system.info HTTP/1.1\r\nHost: evil.example\r\n${auth}Content-Length: 2\r\n\r\n{}`,
    `POST /api/call/runs.get HTTP/1.1\r\nHost: ${host}\r\n${auth}Content-Length: 23\r\n\r\n{"input":{"id":"one"}} `,
    `GET /api/events?token=${token} HTTP/1.1\r\nHost: ${host}\r\nOrigin: http://evil.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
    `GET /api/events HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
  ];
}

function rssMiB(pid: number): number {
  try {
    const kib = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kib ? Number(kib) / 1024 : 0;
  } catch {
    return 0;
  }
}

async function startServe(home: string): Promise<{ child: ChildProcess; port: number; token: string; exited: () => number | null; stderr: () => string }> {
  const child = spawn(process.execPath, [path.join(root, 'bin', 'dynamics.js'), 'serve', '--host', '127.0.0.1', '--port', '0'], {
    env: { ...process.env, DYNAMICS_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let exitCode: number | null = null;
  let stderr = '';
  child.on('exit', (code, signal) => (exitCode = code ?? (signal ? 128 : -1)));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<URL>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /served at (\S+)/.exec(out);
      if (m) resolve(new URL(m[1]!));
    });
    child.on('exit', () => reject(new Error(`dynamics serve exited before serving: ${stderr.trim()}`)));
  });
  if (url.hostname !== '127.0.0.1') throw new Error(`dynamics serve listens on ${url.hostname}, not loopback`);
  return { child, port: Number(url.port), token: url.searchParams.get('token')!, exited: () => exitCode, stderr: () => stderr };
}

async function main(): Promise<number> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'dynamics-soak-serve-'));
  writeTinyModel(path.join(home, 'tiny-model'));
  writeTinyCorpora(path.join(home, 'corpora'), ['code', 'email', 'licenses'], { train: 12, eval: 3, test: 3, maxChars: 1200 });
  const serve = await startServe(home);
  const { port, token } = serve;
  const pid = serve.child.pid!;
  console.error(`dynamics serve (pid ${pid}) on 127.0.0.1:${port}, data in ${home}; ${seconds} s of load`);

  const counts = { validCalls: 0, validOk: 0, validFailed: [] as string[], malformed: 0, malformedRefused: 0, malformedWrong: [] as string[] };
  let rssPeak = rssMiB(pid);
  const rssTimer = setInterval(() => (rssPeak = Math.max(rssPeak, rssMiB(pid))), 250);

  // The WebSocket clients: one reads everything, one reads for 1 s every 15 s.
  const wsUrl = `ws://127.0.0.1:${port}/api/events?token=${token}`;
  const ws = { eager: 0, slow: 0, slowClosedCode: null as number | null };
  const eager = new WebSocket(wsUrl);
  eager.on('message', () => ws.eager++);
  const slow = new WebSocket(wsUrl);
  slow.on('message', () => ws.slow++);
  slow.on('close', (code: number) => (ws.slowClosedCode = code));
  await Promise.all([eager, slow].map((s) => new Promise((resolve, reject) => s.once('open', resolve).once('error', reject))));
  slow.pause();
  const slowReader = setInterval(() => {
    slow.resume();
    setTimeout(() => slow.pause(), 1000);
  }, 15_000);

  // Runs, one after another, for the whole time.
  const runIds: number[] = [];
  let stopping = false;
  const runner = (async () => {
    while (!stopping) {
      // The config as the UI sends it (parsed); its relative paths resolve against the data directory.
      const started = await call(port, token, 'runs.start', { config: parseYaml(CONFIG) as unknown });
      if (!started.ok) throw new Error(`runs.start failed: ${started.error?.message}`);
      const [id] = (started.value as { runIds: number[] }).runIds;
      runIds.push(id!);
      for (;;) {
        await sleep(500);
        const got = await call(port, token, 'runs.get', { id });
        const status = (got.value as { run: { status: string } } | undefined)?.run.status;
        if (status && !['created', 'running'].includes(status)) break;
      }
    }
  })();

  const deadline = Date.now() + seconds * 1000;
  const bad = malformed(port, token);
  const worker = async (k: number) => {
    for (let i = 0; Date.now() < deadline && serve.exited() === null; i++) {
      if ((i + k) % 3 === 0) {
        const request = bad[(i * 7 + k) % bad.length]!;
        const reply = await rawReply(port, request);
        counts.malformed++;
        const pageMayBeServed = request.startsWith('GET //[ ') && !request.includes('Origin:');
        // An API call with a well-formed body but a wrong input is answered as data (200, ok: false).
        const refusedAsData = reply.status === 200 && reply.body.includes('"ok":false');
        if (reply.status === 0 || (reply.status >= 400 && reply.status < 500) || refusedAsData || (pageMayBeServed && reply.status === 200)) counts.malformedRefused++;
        else if (counts.malformedWrong.length < 5) counts.malformedWrong.push(`${reply.status} for ${JSON.stringify(request.slice(0, 60))}`);
        continue;
      }
      const last = runIds.at(-1);
      const choices: [string, unknown][] = [
        ['system.info', undefined],
        ['runs.list', {}],
        ['datasets.list', undefined],
        ['models.list', undefined],
        ...(last !== undefined ? ([['runs.get', { id: last }], ['runs.curves', { id: last }], ['runs.events', { id: last }], ['runs.decisions', { id: last }]] as [string, unknown][]) : []),
      ];
      const [name, input] = choices[(i * 5 + k) % choices.length]!;
      counts.validCalls++;
      try {
        const reply = await call(port, token, name, input);
        if (reply.status === 200 && reply.ok) counts.validOk++;
        else if (counts.validFailed.length < 5) counts.validFailed.push(`${name}: ${reply.status} ${reply.error?.message ?? ''}`);
      } catch (err) {
        if (counts.validFailed.length < 5) counts.validFailed.push(`${name}: ${(err as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, k) => worker(k)));
  stopping = true;
  await runner.catch((err: unknown) => counts.validFailed.push(String(err)));
  clearInterval(slowReader);
  slow.resume();
  eager.close();
  slow.close();
  clearInterval(rssTimer);
  const aliveAtEnd = serve.exited() === null;
  if (aliveAtEnd) {
    serve.child.kill('SIGINT');
    await new Promise((r) => serve.child.once('exit', r));
  }

  // Every completed run has all its rows: progress and every domain's evaluation at step 0 and
  // every evaluation step, training loss at every evaluation step (progress is written per chunk
  // of steps), and the same series, at the same steps, as the first run (same config, same seed).
  const store = Store.open(path.join(home, 'dynamics.db'), { appVersion: 'soak', readonly: true });
  const evalSteps = Array.from({ length: STEPS / EVAL_INTERVAL + 1 }, (_, k) => k * EVAL_INTERVAL);
  const shapeOf = (id: number) => store.reader.curves(id).series.map((c) => `${c.kind}/${c.domain}@${c.steps.join(',')}`).sort().join(' ');
  let firstShape: string | undefined;
  const runs = runIds.map((id) => {
    const run = store.reader.get(id);
    if (run.status !== 'completed') return { id, status: run.status, complete: false };
    const progressSteps = store.db.prepare('SELECT step FROM steps WHERE run_id = ? ORDER BY step').pluck().all(id) as number[];
    const series = store.reader.curves(id).series;
    const at = (kind: string, domain: string) => series.find((c) => c.kind === kind && c.domain === domain)?.steps ?? [];
    const shape = shapeOf(id);
    firstShape ??= shape;
    const complete =
      run.lastStep === STEPS &&
      evalSteps.every((s) => progressSteps.includes(s)) &&
      DOMAINS.every((d) => evalSteps.every((s) => at('eval_loss', d).includes(s))) &&
      evalSteps.slice(1).every((s) => at('train_loss', '').includes(s)) &&
      shape === firstShape;
    return { id, status: run.status, complete };
  });
  store.close();
  const completed = runs.filter((r) => r.status === 'completed');
  const checks = {
    serverAlive: aliveAtEnd,
    validAllOk: counts.validOk === counts.validCalls && counts.validCalls > 0,
    malformedAllRefused: counts.malformedRefused === counts.malformed && counts.malformed > 0,
    rssBounded: rssPeak < rssLimitMiB,
    runsComplete: completed.length > 0 && completed.every((r) => r.complete),
  };
  const ok = Object.values(checks).every(Boolean);
  console.log(JSON.stringify({
    ok,
    seconds,
    clients,
    checks,
    calls: { valid: counts.validCalls, validOk: counts.validOk, malformed: counts.malformed, malformedRefused: counts.malformedRefused, failures: [...counts.validFailed, ...counts.malformedWrong] },
    websocket: { eagerMessages: ws.eager, slowMessages: ws.slow, slowClosedCode: ws.slowClosedCode },
    runs: { started: runIds.length, completed: completed.length, complete: completed.filter((r) => r.complete).length, statuses: runs.map((r) => r.status) },
    serverRssPeakMiB: Math.round(rssPeak),
    rssLimitMiB,
    ...(aliveAtEnd ? {} : { serverStderr: serve.stderr().slice(-2000) }),
  }));
  if (!keep) rmSync(home, { recursive: true, force: true });
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
