// What the preload exposes as `window.dynamics`, and what the HTTP transport imitates. This file
// imports no runtime code, so the preload that uses it stays a few hundred bytes.
import type { Contract } from './contract';
import type { EventEnvelope, Unsubscribe } from './events';
import type { MethodName, Result } from './rpc';

export interface DynamicsBridge {
  call(name: MethodName<Contract>, input: unknown): Promise<Result<unknown>>;
  onEvent(listener: (envelope: EventEnvelope) => void): Unsubscribe;
}

/** Every IPC channel carries this prefix, so nothing else in main can be reached through the bridge. */
export const IPC_PREFIX = 'dynamics:';
export const IPC_EVENT_CHANNEL = 'dynamics:event';
/** `service.method`: the only shape of name the bridge forwards. */
export const METHOD_NAME_PATTERN = /^[a-z][a-zA-Z]*\.[a-z][a-zA-Z]*$/;
