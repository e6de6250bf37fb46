// One WebSocket subscriber's event stream with backpressure. Events go straight out while the
// socket keeps up; once its send buffer passes a high-water mark they wait in a queue where
// position events coalesce (the latest run.progress per run, the latest import progress per
// import) and metric batches of a run merge into one, so a slow client loses no metric point. A
// client that stays too slow for the queue's bound is closed (1013, "try again later"), so the
// server never holds more than a bounded amount per client; the browser UI's transport reconnects,
// and what the client missed meanwhile is read again from the services when a view reloads.
import type { WebSocket } from 'ws';
import type { EventEnvelope } from '../../shared/events';

export interface EventStreamLimits {
  /** Bytes buffered in the socket beyond which events queue instead of being sent. */
  highWaterBytes: number;
  /** Queued events beyond which the client is closed. */
  maxQueued: number;
  /** Metric points merged into one queued batch beyond which the client is closed. */
  maxQueuedPoints: number;
  /** How often a waiting queue checks whether the socket has drained (ms). */
  retryMs: number;
}

export const EVENT_STREAM_LIMITS: EventStreamLimits = {
  highWaterBytes: 1024 * 1024,
  maxQueued: 1_000,
  maxQueuedPoints: 200_000,
  retryMs: 50,
};

export const SLOW_CLIENT_CLOSE_CODE = 1013;

/** What an event may be replaced by a later one under: events with the same key coalesce. */
function coalesceKey(envelope: EventEnvelope): string | undefined {
  switch (envelope.event) {
    case 'run.progress':
      return `run.progress:${(envelope as EventEnvelope<'run.progress'>).payload.runId}`;
    case 'run.metrics':
      return `run.metrics:${(envelope as EventEnvelope<'run.metrics'>).payload.runId}`;
    case 'dataset.import.progress':
      return `dataset.import.progress:${(envelope as EventEnvelope<'dataset.import.progress'>).payload.progressId}`;
    case 'model.import.progress':
      return `model.import.progress:${(envelope as EventEnvelope<'model.import.progress'>).payload.progressId}`;
    default:
      return undefined;
  }
}

export interface EventStreamStats {
  sent: number;
  coalesced: number;
  queued: number;
  closedSlow: boolean;
}

export class EventStream {
  private readonly queue = new Map<string, EventEnvelope>();
  private queuedPoints = 0;
  private unique = 0;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  readonly stats: EventStreamStats = { sent: 0, coalesced: 0, queued: 0, closedSlow: false };

  constructor(private readonly ws: WebSocket, private readonly limits: EventStreamLimits = EVENT_STREAM_LIMITS) {}

  push(envelope: EventEnvelope): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    if (this.queue.size === 0 && this.ws.bufferedAmount < this.limits.highWaterBytes) {
      this.send(envelope);
      return;
    }
    this.enqueue(envelope);
    this.schedule();
  }

  /** Stops the stream (the socket closed); queued events are dropped. */
  stop(): void {
    this.closed = true;
    this.queue.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private send(envelope: EventEnvelope): void {
    this.ws.send(JSON.stringify(envelope));
    this.stats.sent++;
  }

  private enqueue(envelope: EventEnvelope): void {
    const key = coalesceKey(envelope) ?? `#${this.unique++}`;
    const earlier = this.queue.get(key);
    if (earlier && envelope.event === 'run.metrics') {
      const merged = (earlier as EventEnvelope<'run.metrics'>).payload.points.concat((envelope as EventEnvelope<'run.metrics'>).payload.points);
      this.queue.set(key, { event: 'run.metrics', payload: { runId: (envelope as EventEnvelope<'run.metrics'>).payload.runId, points: merged } });
      this.queuedPoints += (envelope as EventEnvelope<'run.metrics'>).payload.points.length;
      this.stats.coalesced++;
    } else if (earlier) {
      // Keeps the key's place in the queue (Map order), so an update never overtakes older events.
      this.queue.set(key, envelope);
      this.stats.coalesced++;
    } else {
      this.queue.set(key, envelope);
      if (envelope.event === 'run.metrics') this.queuedPoints += (envelope as EventEnvelope<'run.metrics'>).payload.points.length;
    }
    this.stats.queued = this.queue.size;
    if (this.queue.size > this.limits.maxQueued || this.queuedPoints > this.limits.maxQueuedPoints) {
      this.stats.closedSlow = true;
      this.stop();
      this.ws.close(SLOW_CLIENT_CLOSE_CODE, 'the client reads events too slowly');
      // The close frame waits behind everything buffered; a client that reads nothing never sees
      // it, so the socket (and its buffer) goes soon either way.
      setTimeout(() => this.ws.terminate(), 2_000).unref();
    }
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, this.limits.retryMs);
    this.timer.unref();
  }

  private flush(): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    for (const [key, envelope] of this.queue) {
      if (this.ws.bufferedAmount >= this.limits.highWaterBytes) break;
      this.queue.delete(key);
      if (envelope.event === 'run.metrics') this.queuedPoints -= (envelope as EventEnvelope<'run.metrics'>).payload.points.length;
      this.send(envelope);
    }
    this.stats.queued = this.queue.size;
    if (this.queue.size > 0) this.schedule();
  }
}
