// Fan-out of core events to every connected interface (IPC windows, WebSocket clients).
import type { EventEnvelope, EventMap, EventName } from '../../shared/events';

export type EnvelopeListener = (envelope: EventEnvelope) => void;

export class EventBus {
  private readonly listeners = new Set<EnvelopeListener>();

  emit<E extends EventName>(event: E, payload: EventMap[E]): void {
    const envelope = { event, payload } as EventEnvelope;
    for (const l of [...this.listeners]) l(envelope);
  }

  /** Returns the function that removes the listener. */
  subscribe(listener: EnvelopeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }
}
