// `dynamics model forward|info`: DESIGN.md's CLI contract for one forward pass of a Hugging Face
// model folder (logits, the causal-LM loss and, with --grads, every adapter tensor's gradient under
// its PEFT key, written as safetensors), and a report of a folder (architecture, parameters,
// dtypes, tokenizer, a memory estimate for LoRA training at a batch and sequence length).
import path from 'node:path';
import { UserError } from '../../../shared/errors';
import { readCappedText } from '../../capped-file';
import type { TokenBatch } from '../../engine/batch';
import { loadModelFolder } from '../../engine/hf/folder';
import { runForward } from '../../engine/hf/forward';
import { formatModelInfo, modelInfo } from '../../engine/hf/info';
import { parseLenientJson } from '../../engine/hf/json';
import { allLinearTargets, loadPeftAdapter } from '../../engine/hf/peft';
import { writeSafetensors, type TensorToWrite } from '../../engine/hf/safetensors-write';
import type { FloatArray } from '../../engine/ir/types';
import { modelVocab } from '../../engine/models/causal-lm';
import { LORA_TARGETS, peftKey, type LoraTarget } from '../../engine/models/lora';
import { OrtRuntime } from '../../engine/runtime/ort-runtime';
import type { DevicePreference } from '../../engine/runtime-api';
import { dataLayout, resolveDataDir } from '../../paths';
import { parseCommandArgs, parseIntegerOption, type Command } from '../command';

const MAX_IDS_BYTES = 64 << 20;
const MAX_TOKENS = 1 << 20;

/** IDS.json: {"input_ids": [[…]], "labels": [[…]]?}; rows of equal length; ids inside the vocabulary. */
export function parseIdsDocument(text: string, file: string, vocab: number): TokenBatch {
  const doc = parseLenientJson(text, file);
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new UserError(`${file} must hold an object {"input_ids": [[...]], "labels": [[...]]?}`);
  const d = doc as Record<string, unknown>;
  const unknown = Object.keys(d).filter((k) => k !== 'input_ids' && k !== 'labels');
  if (unknown.length > 0) throw new UserError(`${file}: unknown field ${unknown[0]} (expected input_ids and optionally labels)`);
  const rows = (field: string, allowIgnore: boolean, width?: number): number[][] => {
    const v = d[field];
    if (!Array.isArray(v) || v.length === 0 || !v.every((r) => Array.isArray(r))) throw new UserError(`${file}: ${field} must be a non-empty list of rows (lists of token ids)`);
    const T = width ?? (v[0] as unknown[]).length;
    if (T === 0) throw new UserError(`${file}: ${field}[0] is empty`);
    if (v.length * T > MAX_TOKENS) throw new UserError(`${file}: ${v.length} × ${T} tokens is more than the limit of ${MAX_TOKENS}`);
    (v as unknown[][]).forEach((r, b) => {
      if (r.length !== T) throw new UserError(`${file}: ${field}[${b}] has ${r.length} entries, but rows must all have ${T}`);
      r.forEach((x, t) => {
        const ok = Number.isInteger(x) && (((x as number) >= 0 && (x as number) < vocab) || (allowIgnore && x === -100));
        if (!ok) throw new UserError(`${file}: ${field}[${b}][${t}] = ${JSON.stringify(x)} is ${allowIgnore ? 'neither -100 nor' : 'not'} a token id of the model (0..${vocab - 1})`);
      });
    });
    return v as number[][];
  };
  const ids = rows('input_ids', false);
  const T = ids[0]!.length;
  const labels = d.labels === undefined || d.labels === null ? ids : rows('labels', true, T);
  if (labels.length !== ids.length) throw new UserError(`${file}: labels has ${labels.length} rows but input_ids has ${ids.length}`);
  return { batchSize: ids.length, seqLen: T, inputIds: Int32Array.from(ids.flat()), labels: Int32Array.from(labels.flat()) };
}

function readIds(file: string, vocab: number): TokenBatch {
  return parseIdsDocument(readCappedText(file, MAX_IDS_BYTES, 'an input ids file'), file, vocab);
}

function device(value: string | undefined): DevicePreference {
  const d = value ?? 'auto';
  if (d !== 'auto' && d !== 'cpu' && d !== 'cuda') throw new UserError(`--device must be auto, cpu or cuda, not ${JSON.stringify(d)}`);
  return d;
}

const forwardCommand: Command = {
  name: 'forward',
  summary: 'logits, loss and adapter gradients of a token batch (safetensors out)',
  usage: `dynamics model forward --model DIR [--adapter DIR] --input IDS.json --out OUT.safetensors [--grads]
                        [--device auto|cpu|cuda] [--dtype float32|float64] [--threads N]

IDS.json: {"input_ids": [[…], …], "labels": [[…], …]?}; rows of equal length; labels default to
input_ids; -100 marks a label to ignore.
OUT holds "logits" [B, T, V] and "loss" (a scalar: Hugging Face's causal-LM loss, position t
predicts label t+1, -100 ignored, mean over kept labels; NaN when none is kept). With --grads (needs
--adapter), the loss gradient of every adapter tensor is stored under the adapter's own PEFT key,
e.g. base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight.`,
  async run(argv, io) {
    const { values } = parseCommandArgs('model forward', argv, {
      model: { type: 'string' }, adapter: { type: 'string' }, input: { type: 'string' }, out: { type: 'string' },
      grads: { type: 'boolean' }, device: { type: 'string' }, dtype: { type: 'string' }, threads: { type: 'string' },
    }, false);
    for (const k of ['model', 'input', 'out'] as const) if (values[k] === undefined) throw new UserError(`\`dynamics model forward\` needs --${k}`);
    if (values.grads && values.adapter === undefined) throw new UserError('--grads computes adapter gradients, so it needs --adapter DIR');
    const dtype = values.dtype ?? 'float32';
    if (dtype !== 'float32' && dtype !== 'float64') throw new UserError(`--dtype must be float32 or float64, not ${JSON.stringify(dtype)}`);
    const threads = parseIntegerOption('threads', values.threads, 1, 1024);
    const folder = loadModelFolder(values.model!, { tokenizer: false });
    try {
      const adapter = values.adapter === undefined ? undefined : loadPeftAdapter(values.adapter, folder.config.model);
      const batch = readIds(values.input!, modelVocab(folder.config.model));
      const result = await runForward({
        runtime: new OrtRuntime(),
        cacheDir: dataLayout(resolveDataDir(io.env)).graphCache,
        model: { config: folder.config.model, weights: folder.weights, weightsKey: folder.weightsKey },
        adapter: adapter && { adapter: adapter.adapter, tensors: adapter.tensors },
        batch, grads: values.grads === true, dtype, device: device(values.device), threads,
      });
      const st = dtype === 'float64' ? 'F64' : 'F32';
      const bytesOf = (a: FloatArray) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
      const V = result.logits.length / (batch.batchSize * batch.seqLen);
      const loss = dtype === 'float64' ? Float64Array.of(result.loss) : Float32Array.of(result.loss);
      const tensors: TensorToWrite[] = [
        { name: 'logits', dtype: st, shape: [batch.batchSize, batch.seqLen, V], bytes: () => bytesOf(result.logits) },
        { name: 'loss', dtype: st, shape: [], bytes: () => bytesOf(loss) },
      ];
      for (const [name, g] of result.grads ?? []) tensors.push({ name: peftKey(name), dtype: st, shape: g.shape, bytes: () => bytesOf(g.data) });
      try {
        writeSafetensors(path.resolve(values.out!), tensors, { format: 'pt' });
      } catch (err) {
        throw new UserError(`cannot write ${values.out} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
      const grads = result.grads ? `, ${result.grads.size} adapter gradients` : '';
      io.out(`loss ${result.loss}, logits [${batch.batchSize}, ${batch.seqLen}, ${V}]${grads} written to ${values.out} (${result.device.reason})`);
      return 0;
    } finally {
      folder.close();
    }
  },
};

const infoCommand: Command = {
  name: 'info',
  summary: 'architecture, parameters, dtypes, tokenizer and a LoRA memory estimate of a model folder',
  usage: `dynamics model info DIR [--batch N] [--seq N] [--rank R] [--alpha A] [--targets all-linear|q_proj,v_proj,…] [--json]

Loads and checks DIR (config.json, safetensors, tokenizer files, generation_config.json) and reports
it, with the memory LoRA training would need at batch N (default 1) × seq N (default 512) tokens
with rank R (default 16) on the given target modules (default all linear layers).`,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('model info', argv, {
      batch: { type: 'string' }, seq: { type: 'string' }, rank: { type: 'string' }, alpha: { type: 'string' }, targets: { type: 'string' }, json: { type: 'boolean' },
    });
    if (positionals.length !== 1) throw new UserError('`dynamics model info` needs exactly one model folder');
    const folder = loadModelFolder(positionals[0]!);
    try {
      const r = parseIntegerOption('rank', values.rank, 1, 4096) ?? 16;
      const alpha = values.alpha === undefined ? 2 * r : Number(values.alpha);
      if (!Number.isFinite(alpha) || alpha <= 0) throw new UserError(`--alpha must be a positive number, not ${JSON.stringify(values.alpha)}`);
      const targets = values.targets === undefined || values.targets === 'all-linear' ? allLinearTargets(folder.config.model) : values.targets.split(',').map((t) => t.trim());
      const bad = targets.find((t) => !(LORA_TARGETS as readonly string[]).includes(t));
      if (bad !== undefined) throw new UserError(`--targets: ${bad} is not a LoRA target module (supported: ${LORA_TARGETS.join(', ')})`);
      const info = modelInfo(folder, {
        batchSize: parseIntegerOption('batch', values.batch, 1, 4096) ?? 1,
        seqLen: parseIntegerOption('seq', values.seq, 1, 1 << 20) ?? 512,
        lora: { kind: 'lora', r, alpha, targetModules: targets as LoraTarget[] },
      });
      io.out(values.json ? JSON.stringify({ ...info, shape: { ...info.shape, invFreq: undefined } }, null, 2) : formatModelInfo(info));
      return 0;
    } finally {
      folder.close();
    }
  },
};

export const modelCommand: Command = {
  name: 'model',
  summary: 'inspect a Hugging Face model folder, or run one forward pass',
  usage: 'dynamics model forward|info …',
  subcommands: [forwardCommand, infoCommand],
};
