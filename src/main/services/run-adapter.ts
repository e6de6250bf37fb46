// A run's trained LoRA adapter, read back from one of its checkpoints for generation: the
// checkpoint's payload starts with the flat trainable buffer, laid out as the engine lays out the
// adapter's parameters (loraParameterShapes, in graph order), so each tensor is a view of it.
import { UserError } from '../../shared/errors';
import { parseRunConfig } from '../../shared/run-config';
import type { CheckpointRecord, RunRecord } from '../../shared/runs';
import { loraParameterShapes } from '../engine/hf/peft';
import type { ModelConfig } from '../engine/models/causal-lm';
import type { LoraTarget } from '../engine/models/lora';
import { FlatLayout } from '../engine/train/flat-params';

export interface LoadedAdapter {
  /** The config's model.path, to check it is the model generating. */
  modelPath: string;
  step: number;
  adapter: { kind: 'lora'; r: number; alpha: number; targetModules: LoraTarget[] };
  tensors: Map<string, Float32Array>;
}

export interface AdapterSources {
  get(runId: number): RunRecord;
  checkpoints(runId: number): CheckpointRecord[];
  /** Reads a complete checkpoint, verifying its hash. */
  load(record: CheckpointRecord): { header: { meta: unknown }; payload: Uint8Array };
}

/** The checkpoint a Try view means by "the run's adapter": the selected one, else the latest. */
export function adapterCheckpoint(run: RunRecord, checkpoints: readonly CheckpointRecord[], step?: number): CheckpointRecord {
  const complete = checkpoints.filter((c) => c.complete);
  if (step !== undefined) {
    const c = complete.find((x) => x.step === step);
    if (!c) throw new UserError(`run ${run.id} has no complete checkpoint at step ${step}${complete.length ? ` (it has ${complete.map((x) => x.step).join(', ')})` : ''}`);
    return c;
  }
  const selected = run.selectedStep === null ? undefined : complete.find((c) => c.step === run.selectedStep);
  const chosen = selected ?? complete.at(-1);
  if (!chosen) throw new UserError(`run ${run.id} has no complete checkpoint yet, so it has no adapter to try`);
  return chosen;
}

export function loadRunAdapter(sources: AdapterSources, runId: number, modelConfig: ModelConfig, step?: number): LoadedAdapter {
  const run = sources.get(runId);
  const config = parseRunConfig(run.config, `the configuration of run ${runId}`);
  const a = config.model.adapter;
  if (a.kind !== 'lora') throw new UserError(`run ${runId} trained every parameter, not a LoRA adapter; export its model folder and import that to try it`);
  const adapter = { kind: 'lora' as const, r: a.rank, alpha: a.alpha, targetModules: a.targets as LoraTarget[] };
  const record = adapterCheckpoint(run, sources.checkpoints(runId), step);
  const loaded = sources.load(record);
  const meta = loaded.header.meta as { format?: unknown; size?: unknown; dtype?: unknown } | null;
  if (!meta || meta.format !== 'engine-trainer-1' || typeof meta.size !== 'number') {
    throw new UserError(`the checkpoint of run ${runId} at step ${record.step} was not written by the engine's trainer`);
  }
  const layout = new FlatLayout(loraParameterShapes(modelConfig, adapter));
  if (layout.size !== meta.size) {
    throw new UserError(`the checkpoint of run ${runId} at step ${record.step} holds ${meta.size} adapter values, but this model with the run's adapter has ${layout.size}: it was trained on another model`);
  }
  const width = meta.dtype === 'float64' ? 8 : 4;
  const bytes = loaded.payload;
  if (bytes.byteLength < layout.size * width) throw new UserError(`the checkpoint of run ${runId} at step ${record.step} is shorter than its adapter`);
  const flat = new Float32Array(layout.size);
  const view = new DataView(bytes.buffer, bytes.byteOffset, layout.size * width);
  for (let i = 0; i < layout.size; i++) flat[i] = width === 8 ? view.getFloat64(i * 8, true) : view.getFloat32(i * 4, true);
  return { modelPath: config.model.path, step: record.step, adapter, tensors: layout.views(flat) };
}
