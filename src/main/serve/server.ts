// `dynamics serve`: the built renderer and the contract over HTTP + WebSocket, for browsers and
// for GPU boxes without a display. Same handlers as the Electron app; nothing here holds logic.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { UserError } from '../../shared/errors';
import type { Core } from '../bootstrap';
import { resolveStaticPath, sendStatic } from './static';
import { SECURITY_HEADERS, isLoopbackHost, newToken, refuseForeign, requestToken, tokensEqual } from './security';

export const API_CALL_PREFIX = '/api/call/';
export const API_EVENTS_PATH = '/api/events';
const MAX_BODY_BYTES = 16 * 1024 * 1024;

export interface ServeOptions {
  core: Core;
  /** The built renderer; when absent, only the API is served. */
  staticDir?: string;
  host?: string;
  port?: number;
  allowRemote?: boolean;
  token?: string;
}

export interface RunningServer {
  url: string;
  /** The URL to open in a browser, token included. */
  openUrl: string;
  token: string;
  port: number;
  close(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(text);
}

function refuse(res: ServerResponse, status: number, name: string, message: string): void {
  sendJson(res, status, { ok: false, error: { name, message } });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new UserError(`request body larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const allowRemote = options.allowRemote ?? false;
  if (!allowRemote && !isLoopbackHost(host)) {
    throw new UserError(`refusing to listen on ${host}: it is not a loopback address; pass --allow-remote to expose the UI and API to the network`);
  }
  const token = options.token ?? newToken();
  const { core } = options;

  const handleApi = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    if (!tokensEqual(token, requestToken(req, url))) return refuse(res, 401, 'Unauthorized', 'a valid token is required');
    if (req.method !== 'POST') return refuse(res, 405, 'MethodNotAllowed', 'API calls use POST');
    const name = url.pathname.slice(API_CALL_PREFIX.length);
    let input: unknown;
    try {
      const body = await readBody(req);
      input = body.length > 0 ? (JSON.parse(body) as { input?: unknown }).input : undefined;
    } catch (err) {
      return refuse(res, 400, 'BadRequest', err instanceof UserError ? err.message : 'the request body is not valid JSON');
    }
    const result = await core.dispatch(name, input);
    sendJson(res, 200, result);
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const foreign = refuseForeign(req, allowRemote);
    if (foreign) return refuse(res, 403, 'Forbidden', foreign);
    if (url.pathname.startsWith('/api/')) {
      if (!url.pathname.startsWith(API_CALL_PREFIX)) return refuse(res, 404, 'NotFound', 'no such API path');
      handleApi(req, res, url).catch((err: unknown) => refuse(res, 500, 'InternalError', String(err)));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, 'MethodNotAllowed', 'only GET is served here');
    const root = options.staticDir;
    const file = root ? (resolveStaticPath(root, url.pathname) ?? resolveStaticPath(root, '/')) : undefined;
    if (!file) return refuse(res, 404, 'NotFound', root ? 'not found' : 'the UI is not built (run `npm run build`)');
    sendStatic(res, file, { ...SECURITY_HEADERS, 'Cache-Control': 'no-cache' });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const deny = (status: string) => {
      socket.write(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
      socket.destroy();
    };
    if (url.pathname !== API_EVENTS_PATH) return deny('404 Not Found');
    if (refuseForeign(req, allowRemote)) return deny('403 Forbidden');
    if (!tokensEqual(token, requestToken(req, url))) return deny('401 Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => {
      const unsubscribe = core.bus.subscribe((envelope) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(envelope));
      });
      ws.on('close', unsubscribe);
      ws.on('error', unsubscribe);
      ws.send(JSON.stringify({ event: 'system.hello', payload: { serverTime: Date.now() } }));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(new UserError(`port ${options.port} on ${host} is already in use; pick another with --port`));
      else if (err.code === 'EADDRNOTAVAIL') reject(new UserError(`cannot listen on ${host}: no such address on this machine`));
      else reject(err);
    });
    server.listen(options.port ?? 0, host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const url = `http://${shownHost}:${port}`;
  return {
    url,
    openUrl: `${url}/?token=${token}`,
    token,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
