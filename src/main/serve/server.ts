// `dynamics serve`: the built renderer and the contract over HTTP + WebSocket, for browsers and
// for GPU boxes without a display. Same handlers as the Electron app; nothing here holds logic.
// Every handler answers malformed input with a 4xx and keeps serving: the request target is parsed
// without throwing, bodies are capped before parsing (body.ts), and anything a handler throws is
// answered with a 500 (or ends that one connection), never left to crash the process.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import { UserError } from '../../shared/errors';
import type { Core } from '../bootstrap';
import { BODY_LIMITS, BodyError, readJsonBody, type BodyLimits } from './body';
import { EVENT_STREAM_LIMITS, EventStream, type EventStreamLimits, type EventStreamStats } from './event-stream';
import { resolveStaticPath, sendStatic } from './static';
import { SECURITY_HEADERS, bearerToken, isLoopbackHost, newToken, parseRequestTarget, queryToken, refuseForeign, tokensEqual } from './security';

export const API_CALL_PREFIX = '/api/call/';
export const API_EVENTS_PATH = '/api/events';
const CONTROLLER_PREFIX = 'controller.';

export interface ServeOptions {
  core: Core;
  /** The built renderer; when absent, only the API is served. */
  staticDir?: string;
  host?: string;
  port?: number;
  allowRemote?: boolean;
  token?: string;
  /** Caps on API request bodies (tests lower them). */
  bodyLimits?: BodyLimits;
  /** Backpressure of each WebSocket subscriber (tests lower them). */
  eventStreamLimits?: EventStreamLimits;
}

export interface RunningServer {
  url: string;
  /** The URL to open in a browser, token included. */
  openUrl: string;
  token: string;
  port: number;
  /** The backpressure counters of the WebSocket subscribers connected now. */
  eventStreams(): EventStreamStats[];
  close(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  // A reply already begun cannot become another one: end that connection instead.
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...headers });
  res.end(text);
}

function refuse(res: ServerResponse, status: number, name: string, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { ok: false, error: { name, message } }, headers);
}

function internalError(res: ServerResponse, err: unknown): void {
  try {
    refuse(res, 500, 'InternalError', err instanceof Error ? err.message : String(err));
  } catch {
    res.destroy();
  }
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const allowRemote = options.allowRemote ?? false;
  if (!allowRemote && !isLoopbackHost(host)) {
    throw new UserError(`refusing to listen on ${host}: it is not a loopback address; pass --allow-remote to expose the UI and API to the network`);
  }
  const token = options.token ?? newToken();
  const { core } = options;
  const bodyLimits = options.bodyLimits ?? BODY_LIMITS;
  const eventStreamLimits = options.eventStreamLimits ?? EVENT_STREAM_LIMITS;

  const handleApi = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    // The token travels in the Authorization header only: a query string ends up in logs and
    // in the browser's history (the WebSocket, which cannot send headers, is the one exception).
    if (!tokensEqual(token, bearerToken(req))) return refuse(res, 401, 'Unauthorized', 'a valid token is required in the Authorization header');
    if (req.method !== 'POST') return refuse(res, 405, 'MethodNotAllowed', 'API calls use POST');
    const name = url.pathname.slice(API_CALL_PREFIX.length);
    let parsed: unknown;
    try {
      const body = await readJsonBody(req, bodyLimits);
      parsed = body.length > 0 ? JSON.parse(body) : {};
    } catch (err) {
      if (err instanceof BodyError) return refuse(res, err.status, err.status === 413 ? 'PayloadTooLarge' : 'BadRequest', err.message, { Connection: 'close' });
      return refuse(res, 400, 'BadRequest', 'the request body is not valid JSON');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return refuse(res, 400, 'BadRequest', 'the request body must be a JSON object {"input": …}');
    const input = (parsed as { input?: unknown }).input;
    // controller.*: the protocol for external trainers, a contract of its own (the UI never calls it).
    const dispatch = name.startsWith(CONTROLLER_PREFIX) ? core.controller.dispatch : core.dispatch;
    const result = await dispatch(name, input);
    sendJson(res, 200, result);
  };

  const handleRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const url = parseRequestTarget(req.url);
    if (!url) return refuse(res, 400, 'BadRequest', 'the request target is not a path');
    const foreign = refuseForeign(req, allowRemote);
    if (foreign) return refuse(res, 403, 'Forbidden', foreign);
    if (url.pathname.startsWith('/api/')) {
      if (!url.pathname.startsWith(API_CALL_PREFIX)) return refuse(res, 404, 'NotFound', 'no such API path');
      handleApi(req, res, url).catch((err: unknown) => internalError(res, err));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, 'MethodNotAllowed', 'only GET is served here');
    const root = options.staticDir;
    const file = root ? (resolveStaticPath(root, url.pathname) ?? resolveStaticPath(root, '/')) : undefined;
    if (!file) return refuse(res, 404, 'NotFound', root ? 'not found' : 'the UI is not built (run `npm run build`)');
    sendStatic(res, file, { ...SECURITY_HEADERS, 'Cache-Control': 'no-cache' });
  };

  const server: Server = createServer((req, res) => {
    try {
      handleRequest(req, res);
    } catch (err) {
      internalError(res, err);
    }
  });
  // A request Node's parser rejects (bad request line, header or chunk): a plain 400 (431 for
  // headers over Node's size limit), then close.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    if (socket.writable && err.code !== 'ECONNRESET') socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    socket.destroy();
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const streams = new Set<EventStream>();
  const handleUpgrade = (req: IncomingMessage, socket: Socket, head: Buffer): void => {
    const deny = (status: string) => {
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
    };
    const url = parseRequestTarget(req.url);
    if (!url) return deny('400 Bad Request');
    if (url.pathname !== API_EVENTS_PATH) return deny('404 Not Found');
    if (refuseForeign(req, allowRemote)) return deny('403 Forbidden');
    if (!tokensEqual(token, queryToken(url) ?? bearerToken(req))) return deny('401 Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => {
      const stream = new EventStream(ws, eventStreamLimits);
      streams.add(stream);
      const unsubscribe = core.bus.subscribe((envelope) => stream.push(envelope));
      const end = () => {
        unsubscribe();
        stream.stop();
        streams.delete(stream);
      };
      ws.on('close', end);
      ws.on('error', end);
      stream.push({ event: 'system.hello', payload: { serverTime: Date.now() } });
    });
  };
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    // Until ws takes the socket over, a reset by the client must not become an uncaught error.
    socket.on('error', () => socket.destroy());
    try {
      handleUpgrade(req, socket, head);
    } catch {
      socket.destroy();
    }
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
    eventStreams: () => [...streams].map((s) => ({ ...s.stats })),
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
