// A worker thread of the parallel tokenization (tokenize-parallel.ts): rebuilds the tokenizer from
// its snapshot and the chat template from its source, then encodes each batch of lines it is sent
// and posts the result back, its buffers transferred; token buffers come back to be used again.
// Batches are answered in the order they came.
import { parentPort, workerData } from 'node:worker_threads';
import { ChatTemplate } from './chat-template';
import { ExampleEncoder } from './encode';
import { encodeBatch, type LineBatch } from './encode-batch';
import { SnapshotTokenizer } from './tokenizer';
import type { WorkerSetup } from './tokenize-parallel';

const setup = workerData as WorkerSetup;
const tokenizer = new SnapshotTokenizer(setup.tokenizer);
const template = setup.template ? new ChatTemplate(setup.template.source, tokenizer.origin, { bos: tokenizer.bosToken, eos: tokenizer.eosToken }, setup.template.limits) : null;
const encoder = new ExampleEncoder(tokenizer, template, setup.encoder);

/** Token buffers the main thread has given back after writing them out. */
const spares: Uint32Array[] = [];

parentPort!.on('message', (msg: LineBatch | { spare: ArrayBuffer }) => {
  if ('spare' in msg) {
    spares.push(new Uint32Array(msg.spare));
    return;
  }
  const batch = msg;
  try {
    const out = encodeBatch(batch, encoder, setup.kind, spares);
    parentPort!.postMessage(out, [out.tokens.buffer as ArrayBuffer, out.examples.buffer as ArrayBuffer]);
  } catch (err) {
    parentPort!.postMessage({ seq: batch.seq, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
  }
});
