// One forward pass of a loaded model folder (optionally with a LoRA adapter) on a token batch:
// logits, the Hugging Face causal-LM loss and, on request, the loss gradient of every adapter
// tensor, from one graph (adapter tensors are graph inputs, base weights external initializers),
// compiled through the graph cache and run once. `dynamics model forward` and the parity tests
// use it.
import { InvalidInputError } from '../../../shared/errors';
import { gradients } from '../autodiff/gradients';
import { checkBatch, type TokenBatch } from '../batch';
import { GraphBuilder } from '../ir/builder';
import { causalLmLoss } from '../ir/composite';
import type { FloatArray, FloatDType } from '../ir/types';
import { createCausalLM, modelVocab, type ModelConfig } from '../models/causal-lm';
import { adapterWrap, isLoraParam, validateAdapter, type AdapterConfig } from '../models/lora';
import { GraphCache } from '../onnx/graph-cache';
import { optimizeGraph } from '../passes';
import type { DeviceChoice, DevicePreference, Runtime, Tensor } from '../runtime-api';
import { frozenBinding, type WeightSource } from '../weights';

export interface ForwardModel {
  config: ModelConfig;
  weights: WeightSource;
  weightsKey?: string;
}

export interface ForwardAdapter {
  adapter: Extract<AdapterConfig, { kind: 'lora' }>;
  /** LoRA values by our parameter name. */
  tensors: ReadonlyMap<string, ArrayLike<number>>;
}

export interface ForwardRequest {
  runtime: Runtime;
  cacheDir: string;
  model: ForwardModel;
  adapter?: ForwardAdapter;
  batch: TokenBatch;
  /** Also compute the gradient of the loss for every adapter tensor. */
  grads?: boolean;
  dtype?: FloatDType;
  device?: DevicePreference;
  threads?: number;
}

export interface ForwardResult {
  /** [B, T, V] */
  logits: FloatArray;
  /** Mean over kept labels; NaN when no label is kept. */
  loss: number;
  /** Adapter gradients by our parameter name, with their shapes (with `grads`). */
  grads?: Map<string, { shape: number[]; data: FloatArray }>;
  device: DeviceChoice;
}

const PRODUCER_VERSION = 'forward-1';

export async function runForward(req: ForwardRequest): Promise<ForwardResult> {
  const { batch } = req;
  const dtype = req.dtype ?? 'float32';
  if (req.grads && !req.adapter) throw new InvalidInputError('gradients are computed for adapter tensors, so they need an adapter');
  checkBatch(batch, batch, modelVocab(req.model.config));
  const model = createCausalLM(req.model.config, req.adapter ? adapterWrap(validateAdapter(req.adapter.adapter)) : (l) => l);
  const b = new GraphBuilder(dtype, {
    resolve: (name, shape) => (isLoraParam(name) ? { kind: 'trainable' } : frozenBinding(req.model.weights, name, shape, false)),
  });
  const { batchSize: B, seqLen: T } = batch;
  const ids = b.input('input_ids', [B, T], 'int32');
  const labels = b.input('labels', [B, T], 'int32');
  const logits = model.forward(b, ids); // [B, T, V]
  const { loss } = b.scope('loss', () => causalLmLoss(b, logits, labels));
  const lora = b.parameters().filter((p) => p.trainable);
  b.output('logits', logits);
  b.output('loss', loss);
  if (req.grads) {
    const g = gradients(b, loss, lora.map((p) => p.value));
    lora.forEach((p, i) => b.output(`grad.${p.name}`, g[i]!));
  }
  optimizeGraph(b.graph);

  const device = await req.runtime.chooseDevice(req.device ?? 'auto');
  const compiled = new GraphCache(req.cacheDir).compile(b.graph, { name: req.grads ? 'forward-grads' : 'forward', producerVersion: PRODUCER_VERSION, weightsKey: req.model.weightsKey, device: device.device });
  const session = await req.runtime.createSession(compiled.modelPath, {
    device: device.device,
    threads: req.threads,
    optimization: dtype === 'float64' ? 'basic' : 'all',
    prepack: false,
  });
  try {
    const shape = [B, T];
    const feeds: Record<string, Tensor> = {
      input_ids: { dtype: 'int32', shape, data: batch.inputIds },
      labels: { dtype: 'int32', shape, data: batch.labels },
    };
    for (const p of lora) {
      const v = req.adapter!.tensors.get(p.name);
      if (!v) throw new InvalidInputError(`the adapter has no values for ${p.name}`);
      const data = dtype === 'float64' ? Float64Array.from(v) : v instanceof Float32Array ? v : Float32Array.from(v);
      feeds[p.name] = { dtype, shape: p.shape, data };
    }
    const out = await session.run(feeds);
    const result: ForwardResult = { logits: out.logits as FloatArray, loss: Number((out.loss as FloatArray)[0]), device };
    if (req.grads) result.grads = new Map(lora.map((p) => [p.name, { shape: [...p.shape], data: out[`grad.${p.name}`] as FloatArray }]));
    return result;
  } finally {
    await session.release();
  }
}
