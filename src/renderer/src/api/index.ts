// The renderer's one API facade: typed methods derived from the contract plus event
// subscriptions. Components and stores get it through `useApi()`; nothing touches window.dynamics.
import { inject, type App, type InjectionKey } from 'vue';
import { contract, type DynamicsApi } from '../../../shared/contract';
import type { EventMap, EventName, EventSource } from '../../../shared/events';
import { buildClient, unwrap } from '../../../shared/rpc';
import { ApiError } from '../../../shared/rpc';
import { bridgeTransport, httpTransport, takeTokenFromLocation, type Transport } from './transport';

export type Api = DynamicsApi & EventSource;

export function createApi(transport: Transport): Api {
  const client = buildClient(contract, async (name, input) => {
    try {
      return unwrap(await transport.call(name, input));
    } catch (err) {
      if (err instanceof ApiError) throw err;
      throw new ApiError('TransportError', err instanceof Error ? err.message : String(err));
    }
  });
  return Object.assign(client, {
    on<E extends EventName>(event: E, listener: (payload: EventMap[E]) => void) {
      return transport.onEvent((envelope) => {
        if (envelope.event === event) listener(envelope.payload as EventMap[E]);
      });
    },
  });
}

/** Picks the transport for where the page runs: Electron's bridge, else the serving origin. */
export function detectTransport(win: Window): Transport {
  if (win.dynamics) return bridgeTransport(win.dynamics);
  const token = takeTokenFromLocation(win.location, win.history, win.sessionStorage);
  if (!token) throw new ApiError('Unauthorized', 'open the address that `dynamics serve` printed: it carries the access token');
  return httpTransport({ baseUrl: win.location.origin, token });
}

export const API_KEY: InjectionKey<Api> = Symbol('dynamics.api');

export function installApi(app: App, api: Api): void {
  app.provide(API_KEY, api);
}

export function useApi(): Api {
  const api = inject(API_KEY);
  if (!api) throw new Error('useApi() called outside an app that installed the API');
  return api;
}
