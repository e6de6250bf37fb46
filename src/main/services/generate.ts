// generate.*: text from a model (optionally with a run's adapter), streamed as events. A request
// returns its id at once; tokens follow as `generate.token` (decoded text, holding back an
// incomplete UTF-8 sequence) and one `generate.done` ends it. Generators are kept for the last
// two model/adapter pairs (base and adapter side by side), so a second prompt starts warm.
//
// ONNX Runtime's run blocks the calling thread for each token: in the desktop app that is the main
// process, acceptable for small models (milliseconds per token); large models belong in a worker
// process like training.
import { randomBytes } from 'node:crypto';
import { UserError, messageOf } from '../../shared/errors';
import type { EventMap } from '../../shared/events';
import { ChatTemplate } from '../data/chat-template';
import { loadTokenizer, type TextTokenizer } from '../data/tokenizer';
import { Generator } from '../engine/generate/generator';
import { loadModelFolder, type ModelFolder } from '../engine/hf/folder';
import type { Runtime } from '../engine/runtime-api';
import type { EventSink, ModelDirectory } from './models';
import { loadRunAdapter, type AdapterSources, type LoadedAdapter } from './run-adapter';

export interface GenerateInput {
  modelId: string;
  adapterRunId?: number | undefined;
  adapterStep?: number | undefined;
  prompt: string;
  chat: boolean;
  maxTokens: number;
  temperature: number;
  topP: number;
  topK: number;
  seed: number;
}

export interface GenerateServiceDeps {
  runtime: Runtime;
  graphCacheDir: string;
  models: ModelDirectory;
  adapters: AdapterSources;
  events: EventSink;
  /** Requests running at once, at most. */
  maxConcurrent?: number;
}

interface Loaded {
  key: string;
  folder: ModelFolder;
  tokenizer: TextTokenizer;
  generator: Generator;
  adapter: LoadedAdapter | null;
  users: number;
  /** Requests on one generator run one after another (they share its sessions). */
  tail: Promise<void>;
}

/** Decoded text as tokens arrive, holding back an incomplete UTF-8 sequence (shown as U+FFFD). */
class TextStream {
  private ids: number[] = [];
  private shown = '';
  constructor(private readonly tok: TextTokenizer) {}

  push(id: number): string {
    this.ids.push(id);
    const text = this.tok.decode(this.ids);
    if (text.endsWith('\uFFFD')) return '';
    let i = 0;
    while (i < text.length && i < this.shown.length && text[i] === this.shown[i]) i++;
    const delta = text.slice(i);
    this.shown = text;
    return delta;
  }
}

const KEEP = 2;

export class GenerateService {
  private readonly loaded: Loaded[] = [];
  private readonly running = new Map<string, AbortController>();

  constructor(private readonly deps: GenerateServiceDeps) {}

  private async acquire(modelId: string, runId: number | undefined, step: number | undefined): Promise<Loaded> {
    const dir = this.deps.models.dirOf(modelId);
    const key = `${dir}|${runId ?? ''}|${step ?? ''}`;
    const known = this.loaded.find((l) => l.key === key);
    if (known) {
      known.users++;
      this.loaded.splice(this.loaded.indexOf(known), 1);
      this.loaded.push(known);
      return known;
    }
    const folder = loadModelFolder(dir);
    try {
      if (!folder.tokenizer) throw new UserError(`${dir} has no tokenizer.json, so a text prompt cannot be encoded`);
      const tokenizer = await loadTokenizer(dir);
      let adapter: LoadedAdapter | null = null;
      if (runId !== undefined) {
        adapter = loadRunAdapter(this.deps.adapters, runId, folder.config.model, step);
        const configPath = this.deps.models.configPathOf(modelId);
        if (adapter.modelPath !== configPath && adapter.modelPath !== dir) {
          throw new UserError(`run ${runId} trained ${adapter.modelPath}, not ${configPath}: pick that model to try its adapter`);
        }
      }
      const generator = await Generator.create({
        runtime: this.deps.runtime,
        cacheDir: this.deps.graphCacheDir,
        model: { config: folder.config.model, weights: folder.weights, weightsKey: folder.weightsKey },
        ...(adapter ? { adapter: { adapter: adapter.adapter, tensors: adapter.tensors } } : {}),
      });
      const l: Loaded = { key, folder, tokenizer, generator, adapter, users: 1, tail: Promise.resolve() };
      this.loaded.push(l);
      await this.evict();
      return l;
    } catch (err) {
      folder.close();
      throw err;
    }
  }

  /** Releases the least recently used generators beyond KEEP that nobody is using. */
  private async evict(): Promise<void> {
    while (this.loaded.length > KEEP) {
      const idle = this.loaded.find((l) => l.users === 0);
      if (!idle) return;
      this.loaded.splice(this.loaded.indexOf(idle), 1);
      await idle.generator.release();
      idle.folder.close();
    }
  }

  private promptIds(tok: TextTokenizer, text: string, chat: boolean): number[] {
    if (!chat) return [...tok.prefix, ...tok.encode(text)];
    if (tok.chatTemplate === null) throw new UserError(`${tok.origin} has no chat template: turn chat off to use the prompt as plain text`);
    const template = new ChatTemplate(tok.chatTemplate, tok.origin, { bos: tok.bosToken, eos: tok.eosToken });
    return tok.encode(template.render([{ role: 'user', content: text }], { addGenerationPrompt: true }));
  }

  async start(input: GenerateInput): Promise<{ requestId: string }> {
    if (this.running.size >= (this.deps.maxConcurrent ?? 4)) throw new UserError(`${this.running.size} generations are running; wait for one to finish or cancel it`);
    const loaded = await this.acquire(input.modelId, input.adapterRunId, input.adapterStep);
    let ids: number[];
    try {
      ids = this.promptIds(loaded.tokenizer, input.prompt, input.chat);
    } catch (err) {
      loaded.users--;
      throw err;
    }
    const requestId = randomBytes(8).toString('hex');
    const abort = new AbortController();
    this.running.set(requestId, abort);
    // The reply goes out first; the tokens follow as events.
    loaded.tail = loaded.tail.then(() => new Promise<void>((resolve) => setImmediate(() => void this.run(requestId, loaded, ids, input, abort).then(resolve))));
    return { requestId };
  }

  private async run(requestId: string, loaded: Loaded, ids: number[], input: GenerateInput, abort: AbortController): Promise<void> {
    const tok = loaded.tokenizer;
    const g = loaded.folder.generation;
    const stop = [...new Set([...g.eosTokenIds, tok.eosId])];
    const stream = new TextStream(tok);
    let index = 0;
    const done = (payload: Omit<EventMap['generate.done'], 'requestId' | 'device'>) =>
      this.deps.events.emit('generate.done', { requestId, device: loaded.generator.device.device, ...payload });
    try {
      const result = await loaded.generator.generate(ids, {
        maxNewTokens: input.maxTokens,
        temperature: input.temperature,
        topP: input.temperature > 0 ? input.topP : 1,
        topK: input.temperature > 0 ? input.topK : 0,
        seed: input.seed,
        stopTokens: stop,
        signal: abort.signal,
        onToken: (t) => {
          if (stop.includes(t.id)) return;
          const text = stream.push(t.id);
          if (text.length > 0) this.deps.events.emit('generate.token', { requestId, index: index++, text });
        },
      });
      done({
        reason: result.stopReason === 'aborted' ? 'cancelled' : result.stopReason,
        message: null,
        tokens: result.tokens.length,
        promptTokens: result.promptTokens,
        seconds: result.seconds,
        tokensPerSecond: result.decodeTokensPerSecond,
      });
    } catch (err) {
      done({ reason: 'error', message: messageOf(err), tokens: index, promptTokens: ids.length, seconds: 0, tokensPerSecond: 0 });
    } finally {
      this.running.delete(requestId);
      loaded.users--;
      await this.evict().catch(() => undefined);
    }
  }

  cancel(requestId: string): void {
    this.running.get(requestId)?.abort();
  }

  async close(): Promise<void> {
    for (const a of this.running.values()) a.abort();
    for (const l of this.loaded.splice(0)) {
      await l.generator.release().catch(() => undefined);
      l.folder.close();
    }
  }
}
