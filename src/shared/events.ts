// Events pushed from the core to every subscriber (the Electron window, the browser UI).
// Each entry is the payload type of one event name.

export interface EventMap {
  /** Sent once per subscriber connection so a client can tell the stream is live. */
  'system.hello': { serverTime: number };
}

export type EventName = keyof EventMap;

export interface EventEnvelope<E extends EventName = EventName> {
  event: E;
  payload: EventMap[E];
}

/** A subscription is undone by calling what `on` returned. */
export type Unsubscribe = () => void;

export interface EventSource {
  on<E extends EventName>(event: E, listener: (payload: EventMap[E]) => void): Unsubscribe;
}

export const eventNames: readonly EventName[] = ['system.hello'];
