// The Runtime interface over onnxruntime-node: device choice (auto tries CUDA and falls back to the
// CPU with the reason in words), sessions loaded from a path with the options DESIGN.md measured
// (level 'all', one intra-op thread per physical core, no spinning), and runs that feed views of
// the caller's arrays and can write outputs into preallocated views.
import * as ort from 'onnxruntime-node';
import { UserError } from '../../../shared/errors';
import { cpuCores } from '../../hardware';
import type { TensorArray } from '../ir/types';
import type { DeviceChoice, DevicePreference, Runtime, RuntimeSession, SessionOptions, Tensor } from '../runtime-api';
import { probeExecutionProviders } from './ort';

function toOrt(t: Tensor): ort.Tensor {
  return new ort.Tensor(t.dtype, t.data as never, t.shape as number[]);
}

class OrtSession implements RuntimeSession {
  constructor(private readonly session: ort.InferenceSession) {}

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  async run(
    feeds: Readonly<Record<string, Tensor>>,
    into: Readonly<Record<string, Tensor>> = {},
    fetch: readonly string[] = this.session.outputNames,
  ): Promise<Record<string, TensorArray>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = toOrt(t);
    const fetches: Record<string, ort.Tensor | null> = {};
    for (const name of fetch) fetches[name] = into[name] ? toOrt(into[name]) : null;
    const results = await this.session.run(ortFeeds, fetches);
    const out: Record<string, TensorArray> = {};
    for (const [name, value] of Object.entries(results)) {
      // a preallocated output comes back as our own array; only copy when ORT wrote elsewhere
      const target = into[name];
      const data = value.data as TensorArray;
      if (target && data !== target.data) (target.data as Float32Array).set(data as Float32Array);
      out[name] = target ? target.data : data;
    }
    return out;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

export class OrtRuntime implements Runtime {
  async chooseDevice(preference: DevicePreference): Promise<DeviceChoice> {
    if (preference === 'cpu') return { device: 'cpu', reason: 'the CPU was requested' };
    const cuda = (await probeExecutionProviders()).find((p) => p.name === 'cuda');
    if (cuda?.usable) return { device: 'cuda', reason: cuda.detail };
    const why = cuda?.detail ?? 'the CUDA execution provider was not probed';
    if (preference === 'cuda') throw new UserError(`CUDA was requested but cannot be used: ${why}.`);
    return { device: 'cpu', reason: `running on the CPU because ${why}` };
  }

  async createSession(modelPath: string, options: SessionOptions): Promise<RuntimeSession> {
    const threads = options.threads ?? cpuCores().physical;
    const session = await ort.InferenceSession.create(modelPath, {
      executionProviders: options.device === 'cuda' ? [{ name: 'cuda', deviceId: 0 }, 'cpu'] : ['cpu'],
      graphOptimizationLevel: options.optimization ?? 'all',
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      enableCpuMemArena: options.memoryArena ?? true,
      enableMemPattern: options.memoryPattern ?? false,
      // spinning threads steal the core the JS thread (optimizer, data) needs between runs
      extra: {
        session: {
          intra_op: { allow_spinning: '0' },
          inter_op: { allow_spinning: '0' },
          disable_prepacking: options.prepack === false ? '1' : '0',
        },
      },
    });
    return new OrtSession(session);
  }
}
