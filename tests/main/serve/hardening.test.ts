// `dynamics serve` under hostile and careless input: a corpus of malformed request lines, headers,
// URLs and bodies (some from a foreign origin) sent over raw sockets, after each of which the
// server must still answer; bodies over the size, depth and value caps refused with 413 and a
// message; the token only where it belongs; a WebSocket client that stops reading; and a model
// whose chat template bombs, imported and previewed.
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { request } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createCore, type Core } from '../../../src/main/bootstrap';
import { JsonShapeGuard } from '../../../src/main/serve/body';
import { remoteAccessWarning } from '../../../src/main/serve/security';
import { startServer, type RunningServer } from '../../../src/main/serve/server';
import type { EventEnvelope } from '../../../src/shared/events';
import { rawExchange } from '../../helpers/raw-http';
import { tempDir } from '../../helpers/temp';
import { writeTinyModel } from '../runner/tiny-fixtures';

/** Sends raw bytes and returns what came back before the server closed, went quiet for 200 ms after answering, or 1.5 s passed. */
const raw = (port: number, bytes: string | Buffer) => rawExchange(port, bytes, { timeoutMs: 1500, quietMs: 200 });

interface Reply {
  status: number;
  body: string;
}

function post(port: number, urlPath: string, headers: Record<string, string>, body: string | Buffer | ((write: (b: string) => boolean) => void)): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: urlPath, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    if (typeof body === 'function') body((b) => req.write(b));
    else req.write(body);
    req.end();
  });
}

describe('dynamics serve, hardened', () => {
  const dir = tempDir();
  let core: Core;
  let server: RunningServer;
  let slow: RunningServer;

  beforeAll(async () => {
    core = createCore({ dataDir: path.join(dir, 'data') });
    server = await startServer({ core, port: 0 });
    slow = await startServer({ core, port: 0, eventStreamLimits: { highWaterBytes: 64 * 1024, maxQueued: 200, maxQueuedPoints: 10_000, retryMs: 10 } });
  });
  afterAll(async () => {
    await server.close();
    await slow.close();
    await core.close();
  });

  const auth = () => ({ Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' });
  const stillServes = async () => {
    const reply = await post(server.port, '/api/call/system.info', auth(), '{}');
    expect(reply.status).toBe(200);
    expect((JSON.parse(reply.body) as { ok: boolean }).ok).toBe(true);
  };

  it('answers every malformed request with a 4xx (or a closed connection) and keeps serving', async () => {
    const host = `127.0.0.1:${server.port}`;
    const body = '{"input":{}}';
    const corpus: string[] = [
      // The request that used to kill the server: a target the URL parser rejects.
      `GET //[ HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
      `GET //[ HTTP/1.1\r\nHost: ${host}\r\nOrigin: http://evil.example\r\n\r\n`,
      `POST /api/call//[ HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${server.token}\r\nContent-Length: 2\r\n\r\n{}`,
      `GET //evil.example/ HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
      `GET http://[::1 HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
      `GET * HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
      `OPTIONS * HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
      `GET /%ZZ%00%C0%AF HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
      `GET /\u00ff\u0000 HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
      `GET / HTTP/9.9\r\nHost: ${host}\r\n\r\n`,
      `NOTAMETHOD / HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
      `GET\r\n\r\n`,
      `\r\n\r\n\r\n`,
      `\u0000\u0001\u0002 garbage\r\n\r\n`,
      `GET / HTTP/1.1\r\nHost: [::1\r\n\r\n`,
      `GET / HTTP/1.1\r\nHost: ${host}\r\nBad Header Line\r\n\r\n`,
      `GET / HTTP/1.1\r\nHost: ${host}\r\nX: ${'a'.repeat(20_000)}\r\n\r\n`,
      `GET / HTTP/1.1\r\n${Array.from({ length: 3000 }, (_, i) => `X-${i}: y`).join('\r\n')}\r\n\r\n`,
      `GET / HTTP/1.1\r\nHost: ${host}\r\nContent-Length: -5\r\n\r\n`,
      `POST /api/call/system.info HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      `POST /api/call/system.info HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${server.token}\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n`,
      `POST /api/call/system.info HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${server.token}\r\nContent-Length: 100\r\n\r\n{"input":`,
      `POST /api/call/system.info HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${server.token}\r\nContent-Length: 4\r\n\r\nnull`,
      `POST /api/call/system.info HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${server.token}\r\nContent-Length: 6\r\n\r\n"text"`,
      `POST /api/call/system.info HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${server.token}\r\nContent-Length: 3\r\n\r\n\u00ff\u00fe\u0000`,
      `POST /api/call/%E0%A4%A HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${server.token}\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      `POST /api/call/__proto__ HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${server.token}\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      `POST /api/call/constructor HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${server.token}\r\nContent-Length: 28\r\n\r\n{"input":{"__proto__":{}}} `,
      `POST /api/call/system.info HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer\r\nContent-Length: 2\r\n\r\n{}`,
      `POST /api/call/system.info HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${server.token}\r\nOrigin: null\r\nContent-Length: 2\r\n\r\n{}`,
      `POST /api/call/system.info HTTP/1.1\r\nHost: evil.example\r\nAuthorization: Bearer ${server.token}\r\nContent-Length: 2\r\n\r\n{}`,
      // WebSocket upgrades: a broken target, a foreign origin, a bad key, no token.
      `GET //[ HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
      `GET /api/events?token=${server.token} HTTP/1.1\r\nHost: ${host}\r\nOrigin: http://evil.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
      `GET /api/events?token=${server.token} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: x\r\n\r\n`,
      `GET /api/events?token=%ZZ HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
      `GET /api/events HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`,
    ];
    for (const request of corpus) {
      const answer = await raw(server.port, request);
      const status = /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1];
      // Either a 4xx, an ok:false error as data (a known path with a bad input), or a closed connection.
      if (status !== undefined && status !== '200') expect(Number(status), JSON.stringify(request.slice(0, 80))).toBeGreaterThanOrEqual(400);
      if (status !== undefined) expect(Number(status), JSON.stringify(request.slice(0, 80))).toBeLessThan(500);
      if (status === '200') expect(answer, JSON.stringify(request.slice(0, 80))).toContain('"ok":false');
      await stillServes();
    }
    expect(await raw(server.port, `GET / HTTP/1.1\r\nHost: ${host}\r\nX: ${'a'.repeat(20_000)}\r\n\r\n`)).toMatch(/^HTTP\/1\.1 431 /);
    expect(await raw(server.port, `GET //[ HTTP/1.1\r\nHost: ${host}\r\n\r\n`)).toMatch(/^HTTP\/1\.1 404 /);
    // A client that resets mid-request and one that opens an upgrade and vanishes.
    const reset = connect(server.port, '127.0.0.1');
    reset.on('error', () => {});
    reset.write(`POST /api/call/system.info HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 1000\r\n\r\n{"in`);
    reset.resetAndDestroy();
    const vanish = connect(server.port, '127.0.0.1');
    vanish.on('error', () => {});
    vanish.write(`GET /api/events?token=${server.token} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`);
    vanish.resetAndDestroy();
    await new Promise((r) => setTimeout(r, 100));
    await stillServes();
  });

  it('accepts the token for API calls only in the Authorization header, not in the query string', async () => {
    const viaQuery = await post(server.port, `/api/call/system.info?token=${server.token}`, { 'Content-Type': 'application/json' }, '{}');
    expect(viaQuery.status).toBe(401);
    expect(viaQuery.body).toContain('Authorization header');
    // The WebSocket, which a browser cannot give headers, still takes it from the query string.
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/events?token=${server.token}`);
    const first = await new Promise<EventEnvelope>((resolve, reject) => {
      ws.once('message', (m: Buffer) => resolve(JSON.parse(m.toString()) as EventEnvelope));
      ws.once('error', reject);
    });
    ws.close();
    expect(first.event).toBe('system.hello');
  });

  it('refuses a body over the size cap with 413 and a message, whether declared or streamed', async () => {
    const big = Buffer.alloc(17 * 1024 * 1024, 0x20);
    const declared = await post(server.port, '/api/call/system.info', { ...auth(), 'Content-Length': String(big.length) }, big);
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.body)).toMatchObject({ ok: false, error: { name: 'PayloadTooLarge', message: expect.stringMatching(/at most 16777216 are accepted/) as unknown } });
    const streamed = await post(server.port, '/api/call/system.info', { ...auth(), 'Transfer-Encoding': 'chunked' }, (write) => {
      for (let i = 0; i < 17; i++) write(' '.repeat(1024 * 1024));
    });
    expect(streamed.status).toBe(413);
    expect(streamed.body).toContain('larger than 16777216 bytes');
    await stillServes();
  });

  it('refuses deep nesting and huge element counts before parsing, quickly and without the memory', async () => {
    const before = process.memoryUsage().rss;
    const t0 = performance.now();
    const deep = await post(server.port, '/api/call/system.info', auth(), `{"input":${'['.repeat(10 * 1024 * 1024)}`);
    expect(deep.status).toBe(413);
    expect(deep.body).toContain('more than 64 levels deep');
    const many = await post(server.port, '/api/call/system.info', auth(), `{"input":[${'0,'.repeat(2_000_000)}0]}`);
    expect(many.status).toBe(413);
    expect(many.body).toContain('more than 100000 values');
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 2 ** 20);
    // Brackets and commas inside strings are text, not structure.
    const guard = new JsonShapeGuard({ maxDepth: 2, maxValues: 3 });
    expect(guard.feed(Buffer.from('{"a":"[[[[,,,,\\"[[[["}'))).toBeUndefined();
    expect(guard.feed(Buffer.from('[[['))).toMatch(/more than 2 levels/);
    await stillServes();
  });

  it('coalesces progress for a WebSocket client that stops reading, and delivers the latest position', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${slow.port}/api/events?token=${slow.token}`);
    await new Promise<void>((resolve, reject) => {
      ws.once('message', () => resolve());
      ws.once('error', reject);
    });
    const received: EventEnvelope[] = [];
    ws.on('message', (m: Buffer) => received.push(JSON.parse(m.toString()) as EventEnvelope));
    ws.pause();
    const total = 60_000;
    const filler = 'x'.repeat(300);
    for (let step = 1; step <= total; step++) {
      for (const runId of [1, 2]) {
        core.bus.emit('run.progress', { runId, phase: 'training', step, totalSteps: total, tokensPerSecond: 1, elapsedSeconds: 1, etaSeconds: 1, tokensSeen: step, device: filler, deviceReason: null });
      }
      if (step % 2000 === 0) await new Promise((r) => setImmediate(r));
    }
    const [stats] = slow.eventStreams();
    expect(stats!.coalesced).toBeGreaterThan(0);
    expect(stats!.queued).toBeLessThanOrEqual(2);
    ws.resume();
    const last = () => received.filter((e) => e.event === 'run.progress').map((e) => (e as EventEnvelope<'run.progress'>).payload);
    for (let i = 0; i < 200 && last().filter((p) => p.step === total).length < 2; i++) await new Promise((r) => setTimeout(r, 25));
    ws.close();
    const progress = last();
    expect(progress.filter((p) => p.step === total).map((p) => p.runId).sort()).toEqual([1, 2]);
    expect(progress.length).toBeLessThan(total);
    for (const runId of [1, 2]) {
      const steps = progress.filter((p) => p.runId === runId).map((p) => p.step);
      expect(steps).toEqual([...steps].sort((a, b) => a - b));
    }
  });

  it('closes a client too slow for events that cannot coalesce (1013), and keeps serving others', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${slow.port}/api/events?token=${slow.token}`);
    await new Promise<void>((resolve, reject) => {
      ws.once('message', () => resolve());
      ws.once('error', reject);
    });
    const closed = new Promise<number>((resolve) => ws.once('close', (code: number) => resolve(code)));
    ws.pause();
    const reason = 'r'.repeat(500);
    for (let i = 0; i < 40_000; i++) {
      core.bus.emit('run.status', { runId: i, status: 'running', reason });
      if (i % 2000 === 0) await new Promise((r) => setImmediate(r));
    }
    ws.resume();
    expect([1013, 1006]).toContain(await closed);
    for (let i = 0; i < 100 && slow.eventStreams().length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(slow.eventStreams()).toEqual([]);
    await stillServes();
  });

  it('survives a model whose chat template bombs, and says why in the preview and the import', async () => {
    const model = writeTinyModel(path.join(dir, 'hostile-model'));
    const configFile = path.join(model, 'tokenizer_config.json');
    const config = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    // A string doubled to 2^26 characters, then a replace with a match at every character: V8
    // aborted the whole process ("invalid size") building the list of matches.
    config.chat_template = "{% set ns = namespace(s='a') %}{% for i in range(26) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s.replace('a', 'bb') }}";
    writeFileSync(configFile, JSON.stringify(config));
    const chats = path.join(dir, 'my-chats.jsonl');
    writeFileSync(chats, `${JSON.stringify({ messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }] })}\n`);
    const api = async (name: string, input: unknown) => JSON.parse((await post(server.port, `/api/call/${name}`, auth(), JSON.stringify({ input }))).body) as { ok: boolean; value?: unknown; error?: { message: string } };

    const imported = await api('models.import', { path: model, name: 'hostile' });
    expect(imported.ok).toBe(true);
    const modelId = (imported.value as { id: string }).id;
    expect((await api('datasets.import', { path: chats, name: 'my-chats' })).ok).toBe(true);
    const preview = await api('datasets.preview', { id: 'my-chats', count: 1, modelId });
    expect(JSON.stringify(preview)).toMatch(/the chat template of .*hostile-model.* would replace more than \d+ matches/);
    const tokenized = await api('datasets.import', { path: chats, name: 'my-chats-2', tokenizerModelId: modelId });
    expect(tokenized.ok).toBe(false);
    expect(tokenized.error!.message).toMatch(new RegExp(`^${chats.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:1: the chat template of`));
    await stillServes();
  });

  it('says what --allow-remote exposes', () => {
    const words = remoteAccessWarning('0.0.0.0');
    expect(words).toContain('read any file that this user can read');
    expect(words).toContain('run training');
    expect(words).toContain('0.0.0.0');
  });
});
