// Tokenization across cores: this thread reads the file's lines and deals them in batches to worker
// threads (encode-worker.ts), which encode them, and encodes a batch itself whenever every worker
// has its fill; the results are taken back in file order, so what is written is what one thread
// writes. Memory stays bounded: at most two batches per worker are out at a time (a batch is 256 K
// characters or 2,048 lines), token buffers go back to be reused, and this thread waits for the
// oldest batch before reading on. A worker costs tens of megabytes (its own heap), so the default
// count fits a memory budget. Only JSONL files and tokenizers on the fast path go this way: a worker
// rebuilds the fast path from a few megabytes of tables, where the library would load the whole
// tokenizer again.
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { TemplateLimits } from './chat-template';
import type { EncoderOptions } from './encode';
import { MAX_SPARE_TOKENS, type EncodedBatch, type LineBatch } from './encode-batch';
import type { ExampleKind } from './formats';
import type { LineEvent } from './lines';
import type { TokenizerSnapshot } from './tokenizer';

/** What each worker is started with. */
export interface WorkerSetup {
  tokenizer: TokenizerSnapshot;
  template: { source: string; limits: TemplateLimits } | null;
  encoder: EncoderOptions;
  kind: ExampleKind | null;
}

/** A batch is sent once it holds this many characters or lines. */
const BATCH_CHARS = 1 << 18;
const BATCH_LINES = 2048;
/** Batches out per worker: one being encoded, one waiting, so a worker never idles on this thread. */
const IN_FLIGHT_PER_WORKER = 2;
/** Files smaller than this are tokenized on one thread: starting workers costs more than it saves. */
export const PARALLEL_MIN_BYTES = 8 << 20;

/**
 * What one more worker costs the process, in MB, as measured: its own heap and isolate, its copy of
 * the encoder's tables, the batches out and their buffers.
 */
export const WORKER_COST_MB = 80;
/** What this thread itself comes to hold while it reads, encodes and writes (buffers, caches, heap growth), in MB. */
const OWN_GROWTH_MB = 50;
/** The memory the import keeps within by default (the goal for tokenizing one file), in MB. */
export const DEFAULT_MEMORY_BUDGET_MB = 300;

/**
 * Worker threads for a file of `bytes`: one per core besides this thread's, at most three, as many
 * as fit in the memory budget over what the process holds now (a large tokenizer's tables leave
 * room for none within the default); none for a small file or one core.
 */
export function defaultWorkers(bytes: number, budgetMB = DEFAULT_MEMORY_BUDGET_MB): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  if (bytes < PARALLEL_MIN_BYTES) return 0;
  const room = Math.floor((budgetMB - OWN_GROWTH_MB - process.memoryUsage.rss() / (1 << 20)) / WORKER_COST_MB);
  return Math.max(0, Math.min(cores - 1, 3, room));
}

/** A worker's young generation: V8's default (tens of MB per heap) is paid again by every worker. */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 8 };

/**
 * The worker entry beside this code: out/main/data-worker.js in a build (the bundle may put this
 * code in a chunk one folder down), else encode-worker.ts, which a small bootstrap loads under tsx.
 */
function startWorker(setup: WorkerSetup): Worker {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const dir of [here, path.dirname(here)]) {
    const built = path.join(dir, 'data-worker.js');
    if (existsSync(built)) return new Worker(built, { workerData: setup, resourceLimits: WORKER_LIMITS });
  }
  const source = path.join(here, 'encode-worker.ts');
  if (!existsSync(source)) throw new Error(`cannot find the tokenization worker (data-worker.js) near ${here}`);
  const boot = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(pathToFileURL(source).href)}); })`;
  return new Worker(boot, { eval: true, workerData: setup, resourceLimits: WORKER_LIMITS });
}

interface Deferred {
  resolve: (r: EncodedBatch) => void;
  reject: (err: Error) => void;
}

/** A fixed set of workers, each answering its batches in order. */
class WorkerPool {
  private readonly workers: { worker: Worker; waiting: Map<number, Deferred> }[] = [];
  /** Which worker encoded each batch out, so that its token buffer goes back there. */
  private readonly owner = new Map<number, Worker>();
  private failure: Error | null = null;

  constructor(setup: WorkerSetup, count: number) {
    for (let i = 0; i < count; i++) {
      const worker = startWorker(setup);
      const waiting = new Map<number, Deferred>();
      const fail = (err: Error) => {
        this.failure ??= err;
        for (const d of waiting.values()) d.reject(err);
        waiting.clear();
      };
      worker.on('message', (msg: EncodedBatch | { seq: number; error: string }) => {
        const d = waiting.get(msg.seq);
        waiting.delete(msg.seq);
        if ('error' in msg) d?.reject(new Error(`a tokenization worker failed: ${msg.error}`));
        else d?.resolve(msg);
      });
      worker.on('error', (err) => fail(new Error(`a tokenization worker failed: ${err.message}`)));
      worker.on('exit', (code) => fail(new Error(`a tokenization worker stopped (exit code ${code})`)));
      this.workers.push({ worker, waiting });
    }
  }

  /** Sends a batch to the least busy worker with room; null when each has `max` batches out. */
  send(batch: LineBatch, max: number): Promise<EncodedBatch> | null {
    if (this.failure) return Promise.reject(this.failure);
    const w = this.workers.reduce((a, b) => (b.waiting.size < a.waiting.size ? b : a));
    if (w.waiting.size >= max) return null;
    const result = new Promise<EncodedBatch>((resolve, reject) => w.waiting.set(batch.seq, { resolve, reject }));
    this.owner.set(batch.seq, w.worker);
    w.worker.postMessage(batch);
    return result;
  }

  /** Gives a written batch's token buffer back to the worker that filled it; false for a batch encoded here. */
  giveBack(r: EncodedBatch): boolean {
    const worker = this.owner.get(r.seq);
    if (!worker) return false;
    this.owner.delete(r.seq);
    const buffer = r.tokens.buffer as ArrayBuffer;
    if (!this.failure && buffer.byteLength <= MAX_SPARE_TOKENS * 4) worker.postMessage({ spare: buffer }, [buffer]);
    return true;
  }

  async close(): Promise<void> {
    this.failure ??= new Error('the tokenization workers were stopped');
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}

/**
 * Encodes the JSONL `lines` on `workers` threads and this one (`local` encodes here), handing each
 * batch's result to `take` in file order. Stops at the first error (`take`'s included) and stops
 * the workers in every case.
 */
export async function encodeInParallel(
  lines: AsyncIterable<LineEvent>,
  setup: WorkerSetup,
  workers: number,
  local: (batch: LineBatch, spares: Uint32Array[]) => EncodedBatch,
  take: (r: EncodedBatch) => Promise<void>,
): Promise<void> {
  const pool = new WorkerPool(setup, workers);
  const spares: Uint32Array[] = [];
  const written = async (r: EncodedBatch) => {
    await take(r);
    if (!pool.giveBack(r) && r.tokens.buffer.byteLength <= MAX_SPARE_TOKENS * 4) spares.push(new Uint32Array(r.tokens.buffer));
  };
  const queue: Promise<EncodedBatch>[] = [];
  const cap = workers * IN_FLIGHT_PER_WORKER;
  let seq = 0;
  let firstLineOpenBrace = false;
  let batch: LineEvent[] = [];
  let chars = 0;
  const send = () => {
    const b = { seq: seq++, lines: batch, firstLineOpenBrace };
    batch = [];
    chars = 0;
    const sent = pool.send(b, IN_FLIGHT_PER_WORKER);
    if (sent) {
      // Awaited in order below; a rejection before its turn must not count as unhandled.
      sent.catch(() => undefined);
      queue.push(sent);
    } else {
      queue.push(Promise.resolve(local(b, spares)));
    }
  };
  try {
    for await (const ev of lines) {
      // The pretty-printed JSON hint depends on line 1 (jsonlEvent's rule): batches sent after it are told.
      if (ev.line === 1 && 'text' in ev && ev.text.trim() === '{') firstLineOpenBrace = true;
      batch.push(ev);
      chars += 'text' in ev ? ev.text.length : 64;
      if (chars >= BATCH_CHARS || batch.length >= BATCH_LINES) {
        send();
        while (queue.length > cap) await written(await queue.shift()!);
      }
    }
    if (batch.length > 0) send();
    while (queue.length > 0) await written(await queue.shift()!);
  } finally {
    await pool.close();
  }
}
