// `dynamics generate --model DIR [--adapter DIR] --prompt TEXT`: text from a Hugging Face model
// folder (with a PEFT adapter applied on the fly), streamed to standard output as it is generated.
// Sampling defaults come from the folder's generation_config.json (greedy unless it says
// do_sample); flags override them. --chat wraps the prompt as one user turn with the model's chat
// template.
import { UserError } from '../../../shared/errors';
import { ChatTemplate } from '../../data/chat-template';
import { loadTokenizer, type TextTokenizer } from '../../data/tokenizer';
import { Generator } from '../../engine/generate/generator';
import { loadModelFolder, type ModelFolder } from '../../engine/hf/folder';
import { loadPeftAdapter } from '../../engine/hf/peft';
import { OrtRuntime } from '../../engine/runtime/ort-runtime';
import { dataLayout, resolveDataDir } from '../../paths';
import { parseCommandArgs, parseIntegerOption, type CliIo, type Command } from '../command';

function numberOption(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) throw new UserError(`--${name} must be a number from ${min} to ${max}, not ${JSON.stringify(value)}`);
  return n;
}

function promptIds(tok: TextTokenizer, text: string, chat: boolean): number[] {
  if (!chat) return [...tok.prefix, ...tok.encode(text)];
  if (tok.chatTemplate === null) throw new UserError(`${tok.origin} has no chat template, so --chat cannot be used`);
  const template = new ChatTemplate(tok.chatTemplate, tok.origin, { bos: tok.bosToken, eos: tok.eosToken });
  // the rendered text carries its own special tokens (BOS included), as apply_chat_template's
  return tok.encode(template.render([{ role: 'user', content: text }], { addGenerationPrompt: true }));
}

/** Prints decoded text as tokens arrive, holding back an incomplete UTF-8 sequence. */
class TextStream {
  private ids: number[] = [];
  private shown = '';
  constructor(
    private readonly tok: TextTokenizer,
    private readonly write: (text: string) => void,
  ) {}

  push(id: number): void {
    this.ids.push(id);
    const text = this.tok.decode(this.ids);
    if (text.endsWith('\uFFFD')) return;
    if (text.startsWith(this.shown)) this.write(text.slice(this.shown.length));
    else this.write(text.slice(commonPrefix(text, this.shown)));
    this.shown = text;
  }
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

async function run(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs('generate', argv, {
    model: { type: 'string' }, adapter: { type: 'string' }, prompt: { type: 'string' }, 'max-new-tokens': { type: 'string' },
    temperature: { type: 'string' }, 'top-p': { type: 'string' }, 'top-k': { type: 'string' }, seed: { type: 'string' },
    greedy: { type: 'boolean' }, chat: { type: 'boolean' }, device: { type: 'string' }, threads: { type: 'string' }, stats: { type: 'boolean' },
  }, false);
  if (values.model === undefined) throw new UserError('`dynamics generate` needs --model DIR');
  if (values.prompt === undefined) throw new UserError('`dynamics generate` needs --prompt TEXT');
  const device = values.device ?? 'auto';
  if (device !== 'auto' && device !== 'cpu' && device !== 'cuda') throw new UserError(`--device must be auto, cpu or cuda, not ${JSON.stringify(device)}`);
  let folder: ModelFolder | undefined;
  let generator: Generator | undefined;
  try {
    folder = loadModelFolder(values.model);
    if (!folder.tokenizer) throw new UserError(`${values.model} has no tokenizer.json, so a text prompt cannot be encoded`);
    const tok = await loadTokenizer(values.model);
    const adapter = values.adapter === undefined ? undefined : loadPeftAdapter(values.adapter, folder.config.model);
    const g = folder.generation;
    const sample = !values.greedy && (values.temperature !== undefined || values['top-p'] !== undefined || values['top-k'] !== undefined || g.doSample);
    const temperature = sample ? (numberOption('temperature', values.temperature, 0, 100) ?? g.temperature) : 0;
    const maxNewTokens = parseIntegerOption('max-new-tokens', values['max-new-tokens'], 0, 1 << 20) ?? g.maxNewTokens ?? 128;
    const ids = promptIds(tok, values.prompt, values.chat === true);
    generator = await Generator.create({
      runtime: new OrtRuntime(),
      cacheDir: dataLayout(resolveDataDir(io.env)).graphCache,
      model: { config: folder.config.model, weights: folder.weights, weightsKey: folder.weightsKey },
      adapter: adapter && { adapter: adapter.adapter, tensors: adapter.tensors },
      device, threads: parseIntegerOption('threads', values.threads, 1, 1024),
    });
    const chunks: string[] = [];
    const write = io.write ?? ((t: string) => chunks.push(t));
    const stream = new TextStream(tok, write);
    const stop = [...new Set([...g.eosTokenIds, tok.eosId])];
    const abort = new AbortController();
    void io.untilInterrupted().then(() => abort.abort());
    const result = await generator.generate(ids, {
      maxNewTokens, temperature, stopTokens: stop, signal: abort.signal,
      topP: sample ? (numberOption('top-p', values['top-p'], 0.000001, 1) ?? g.topP) : 1,
      topK: sample ? (parseIntegerOption('top-k', values['top-k'], 0, 1 << 22) ?? g.topK) : 0,
      seed: parseIntegerOption('seed', values.seed, 0, 2 ** 31 - 1) ?? 0,
      onToken: (t) => {
        if (!stop.includes(t.id)) stream.push(t.id);
      },
    });
    if (io.write) io.write('\n');
    else io.out(chunks.join(''));
    if (values.stats) {
      io.err(`${result.tokens.length} tokens (${result.stopReason}) from a ${result.promptTokens}-token prompt in ${result.seconds.toFixed(2)} s, first after ${result.firstTokenSeconds.toFixed(2)} s, ${result.decodeTokensPerSecond.toFixed(1)} tokens/s (${generator.device.reason})`);
    }
    return 0;
  } finally {
    await generator?.release();
    folder?.close();
  }
}

export const generateCommand: Command = {
  name: 'generate',
  summary: 'generate text from a model folder (optionally with a PEFT adapter)',
  usage: `dynamics generate --model DIR [--adapter DIR] --prompt TEXT [--chat] [--max-new-tokens N]
                  [--greedy | --temperature T --top-p P --top-k K --seed S] [--device auto|cpu|cuda]
                  [--threads N] [--stats]

Streams the continuation of TEXT to standard output, stopping at the model's EOS token or after N
new tokens (default: generation_config.json's max_new_tokens, else 128). Sampling follows
generation_config.json (greedy unless it sets do_sample) unless flags say otherwise; any sampling
flag turns sampling on, --greedy turns it off. --chat renders TEXT as a user turn with the model's
chat template. --stats prints timings to standard error.`,
  run,
};
