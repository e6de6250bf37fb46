import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createCore, type Core } from '../../../src/main/bootstrap';
import { startServer, type RunningServer } from '../../../src/main/serve/server';
import { resolveStaticPath } from '../../../src/main/serve/static';
import { tempDir } from '../../helpers/temp';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(port: number, method: string, urlPath: string, headers: Record<string, string> = {}, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path: urlPath, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

describe('dynamics serve', () => {
  const dir = tempDir();
  const staticDir = path.join(dir, 'renderer');
  let core: Core;
  let server: RunningServer;

  beforeAll(async () => {
    mkdirSync(path.join(staticDir, 'assets'), { recursive: true });
    writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>t</title>');
    writeFileSync(path.join(staticDir, 'assets', 'app.js'), 'console.log(1)');
    writeFileSync(path.join(dir, 'secret.txt'), 'do not serve');
    core = createCore({ dataDir: path.join(dir, 'data') });
    server = await startServer({ core, staticDir, port: 0 });
  });
  afterAll(async () => {
    await server.close();
  });

  const call = (name: string, token: string | undefined, input?: unknown) =>
    send(server.port, 'POST', `/api/call/${name}`, {
      'Content-Type': 'application/json',
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
    }, JSON.stringify({ input }));

  it('prints an address that carries the token, on loopback', () => {
    expect(server.openUrl).toBe(`http://127.0.0.1:${server.port}/?token=${server.token}`);
    expect(server.token).toMatch(/^[0-9a-f]{48}$/);
  });

  it('refuses API calls without the token or with a wrong one (401)', async () => {
    expect((await call('system.info', undefined)).status).toBe(401);
    expect((await call('system.info', 'f'.repeat(48))).status).toBe(401);
    const viaQuery = await send(server.port, 'POST', `/api/call/system.info?token=${server.token.slice(1)}`);
    expect(viaQuery.status).toBe(401);
  });

  it('answers system.info with the token', async () => {
    const reply = await call('system.info', server.token);
    expect(reply.status).toBe(200);
    const result = JSON.parse(reply.body) as { ok: boolean; value: { dataDir: string; onnxRuntimeVersion: string } };
    expect(result.ok).toBe(true);
    expect(result.value.dataDir).toBe(path.join(dir, 'data'));
    expect(result.value.onnxRuntimeVersion).toBe('1.29.0');
    expect(reply.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('returns validation and unknown-method errors as data', async () => {
    const r = JSON.parse((await call('system.info', server.token, { extra: 1 })).body) as { ok: boolean; error: { name: string } };
    expect(r).toMatchObject({ ok: false, error: { name: 'InvalidInput' } });
    const u = JSON.parse((await call('system.nope', server.token)).body) as { ok: boolean; error: { name: string } };
    expect(u).toMatchObject({ ok: false, error: { name: 'UnknownMethod' } });
  });

  it('refuses malformed bodies and other verbs', async () => {
    const bad = await send(server.port, 'POST', '/api/call/system.info', { Authorization: `Bearer ${server.token}` }, '{not json');
    expect(bad.status).toBe(400);
    const get = await send(server.port, 'GET', '/api/call/system.info', { Authorization: `Bearer ${server.token}` });
    expect(get.status).toBe(405);
  });

  it('refuses cross-origin callers and foreign Host headers', async () => {
    const cross = await send(server.port, 'POST', '/api/call/system.info', { Authorization: `Bearer ${server.token}`, Origin: 'http://evil.example' }, '{}');
    expect(cross.status).toBe(403);
    const rebound = await send(server.port, 'GET', '/', { Host: `evil.example:${server.port}` });
    expect(rebound.status).toBe(403);
    const same = await send(server.port, 'POST', '/api/call/system.info', { Authorization: `Bearer ${server.token}`, Origin: `http://127.0.0.1:${server.port}` }, '{}');
    expect(same.status).toBe(200);
  });

  it('serves the UI with a strict CSP, never outside its folder', async () => {
    const index = await send(server.port, 'GET', '/');
    expect(index.status).toBe(200);
    expect(index.headers['content-security-policy']).toContain("default-src 'self'");
    expect((await send(server.port, 'GET', '/assets/app.js')).body).toBe('console.log(1)');
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/%2e%2e/%2e%2e/secret.txt']) {
      const r = await send(server.port, 'GET', p);
      expect(r.body, p).not.toContain('do not serve');
    }
    expect(resolveStaticPath(staticDir, '/%2e%2e/secret.txt')).toBeUndefined();
    expect(resolveStaticPath(staticDir, '/bad%zz')).toBeUndefined();
  });

  it('streams events over a WebSocket only with the token', async () => {
    const url = `ws://127.0.0.1:${server.port}/api/events`;
    const refused = await new Promise<string>((resolve) => {
      const ws = new WebSocket(url);
      ws.on('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
      ws.on('error', (e) => resolve(e.message));
    });
    expect(refused).toContain('401');

    const ws = new WebSocket(`${url}?token=${server.token}`);
    const messages: unknown[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.on('message', (m: Buffer) => {
        messages.push(JSON.parse(m.toString()));
        if (messages.length === 2) resolve();
        if (messages.length === 1) core.bus.emit('system.hello', { serverTime: 42 });
      });
      ws.on('error', reject);
    });
    ws.close();
    expect(messages[0]).toMatchObject({ event: 'system.hello' });
    expect(messages[1]).toEqual({ event: 'system.hello', payload: { serverTime: 42 } });
  });

  it('refuses to listen on a non-loopback address without --allow-remote', async () => {
    await expect(startServer({ core, host: '0.0.0.0', port: 0 })).rejects.toThrow(/--allow-remote/);
  });
});
