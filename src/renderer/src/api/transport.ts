// How the renderer reaches the core: the preload's bridge inside Electron, HTTP + WebSocket in a
// browser served by `dynamics serve`. Both speak Results and event envelopes.
import type { DynamicsBridge } from '../../../shared/bridge';
import type { EventEnvelope, Unsubscribe } from '../../../shared/events';
import type { Result } from '../../../shared/rpc';

export interface Transport {
  call(name: string, input: unknown): Promise<Result<unknown>>;
  onEvent(listener: (envelope: EventEnvelope) => void): Unsubscribe;
}

export function bridgeTransport(bridge: DynamicsBridge): Transport {
  return {
    call: (name, input) => bridge.call(name as Parameters<DynamicsBridge['call']>[0], input),
    onEvent: (listener) => bridge.onEvent(listener),
  };
}

export interface HttpTransportOptions {
  /** e.g. `http://127.0.0.1:8080`; the page's own origin in the served UI. */
  baseUrl: string;
  token: string;
  fetch?: typeof fetch;
  WebSocket?: typeof WebSocket;
  /** Delay before reconnecting the event stream after it drops. */
  reconnectMs?: number;
}

export function httpTransport(options: HttpTransportOptions): Transport {
  const doFetch = options.fetch ?? fetch.bind(globalThis);
  const Ws = options.WebSocket ?? WebSocket;
  const listeners = new Set<(envelope: EventEnvelope) => void>();
  let socket: WebSocket | undefined;
  let closedByUs = false;

  const connect = () => {
    const wsUrl = `${options.baseUrl.replace(/^http/, 'ws')}/api/events?token=${encodeURIComponent(options.token)}`;
    socket = new Ws(wsUrl);
    socket.onmessage = (msg: MessageEvent) => {
      const envelope = JSON.parse(String(msg.data)) as EventEnvelope;
      for (const l of [...listeners]) l(envelope);
    };
    socket.onclose = () => {
      socket = undefined;
      if (!closedByUs && listeners.size > 0) setTimeout(connect, options.reconnectMs ?? 1000);
    };
  };

  return {
    async call(name, input) {
      const res = await doFetch(`${options.baseUrl}/api/call/${name}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${options.token}` },
        body: JSON.stringify({ input }),
      });
      const body = (await res.json().catch(() => undefined)) as Result<unknown> | undefined;
      if (body && typeof body === 'object' && 'ok' in body) return body;
      return { ok: false, error: { name: 'HttpError', message: `the server answered ${res.status} ${res.statusText}` } };
    },
    onEvent(listener) {
      listeners.add(listener);
      closedByUs = false;
      if (!socket) connect();
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && socket) {
          closedByUs = true;
          socket.close();
        }
      };
    },
  };
}

const TOKEN_KEY = 'dynamics.token';

/**
 * The served UI is opened as `/?token=…`. The token is moved to sessionStorage and removed from
 * the address bar, so it is not left in history or shown on screen.
 */
export function takeTokenFromLocation(location: Location, history: History, storage: Storage): string | undefined {
  const params = new URLSearchParams(location.search);
  const fromUrl = params.get('token');
  if (fromUrl) {
    storage.setItem(TOKEN_KEY, fromUrl);
    params.delete('token');
    const search = params.toString();
    history.replaceState(history.state, '', `${location.pathname}${search ? `?${search}` : ''}${location.hash}`);
    return fromUrl;
  }
  return storage.getItem(TOKEN_KEY) ?? undefined;
}
