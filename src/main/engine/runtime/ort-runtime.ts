// The Runtime interface over onnxruntime-node: device choice (auto tries CUDA and falls back to the
// CPU with the reason in words), sessions loaded from a path with the options DESIGN.md measured
// (level 'all', one intra-op thread per physical core, no spinning), and runs that feed views of
// the caller's arrays and can write outputs into preallocated views. A session on CUDA never runs
// part of its graph on the CPU: ONNX Runtime would copy tensors between the devices at every run
// without a word, so the fallback is disabled and a graph that needs it is refused in words.
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { UserError } from '../../../shared/errors';
import { cpuCores } from '../../hardware';
import type { TensorArray } from '../ir/types';
import type { DeviceChoice, DevicePreference, Runtime, RuntimeSession, SessionOptions, Tensor } from '../runtime-api';
import { probeExecutionProviders } from './ort';

function toOrt(t: Tensor): ort.Tensor {
  return new ort.Tensor(t.dtype as ort.Tensor.Type, t.data as never, t.shape as number[]);
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

/** What ONNX Runtime says when a graph would need the CPU fallback that a CUDA session disables. */
const CPU_FALLBACK_REFUSED = /fallback to CPU EP has been explicitly disabled/;

/**
 * The optimizers that would fold half-precision weights into float32 copies (a ';'-separated list:
 * ONNX Runtime reads a comma as part of the name). The float16 fusion must go with constant folding:
 * with folding alone disabled it was seen to abort the process (an assertion in ONNX Runtime 1.29)
 * on any graph that casts a float16 initializer.
 */
const KEEP_WEIGHT_CASTS = 'ConstantFolding;FuseFp16InitializerToFp32NodeTransformer';

export interface OrtRuntimeOptions {
  /**
   * The execution provider a 'cuda' session asks for. Tests pass 'cpu' to stand in for CUDA on a
   * machine without it (every node then counts as a CPU fallback, which the session must refuse);
   * such a runtime also chooses 'cuda' for 'cuda' and 'auto', so a whole session takes the CUDA path.
   */
  cudaProvider?: 'cuda' | 'cpu';
}

/** The session options that place a graph: on CUDA, the CUDA provider alone and no CPU fallback. */
export function placementOptions(device: 'cpu' | 'cuda', cudaProvider: 'cuda' | 'cpu' = 'cuda'): { executionProviders: ort.InferenceSession.ExecutionProviderConfig[]; disableCpuFallback: boolean } {
  if (device === 'cpu') return { executionProviders: ['cpu'], disableCpuFallback: false };
  return { executionProviders: [cudaProvider === 'cuda' ? { name: 'cuda', deviceId: 0 } : 'cpu'], disableCpuFallback: true };
}

export class OrtRuntime implements Runtime {
  constructor(private readonly options: OrtRuntimeOptions = {}) {}

  async chooseDevice(preference: DevicePreference): Promise<DeviceChoice> {
    if (preference === 'cpu') return { device: 'cpu', reason: 'the CPU was requested' };
    if (this.options.cudaProvider === 'cpu') return { device: 'cuda', reason: 'the CPU provider stands in for CUDA' };
    const cuda = (await probeExecutionProviders()).find((p) => p.name === 'cuda');
    if (cuda?.usable) return { device: 'cuda', reason: cuda.detail };
    const why = cuda?.detail ?? 'the CUDA execution provider was not probed';
    if (preference === 'cuda') throw new UserError(`CUDA was requested but cannot be used: ${why}.`);
    return { device: 'cpu', reason: `running on the CPU because ${why}` };
  }

  async createSession(modelPath: string, options: SessionOptions): Promise<RuntimeSession> {
    const threads = options.threads ?? cpuCores().physical;
    const placement = placementOptions(options.device, this.options.cudaProvider);
    const session = await ort.InferenceSession.create(modelPath, {
      executionProviders: placement.executionProviders,
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
          disable_cpu_ep_fallback: placement.disableCpuFallback ? '1' : '0',
        },
        ...(options.keepWeightCasts ? { optimization: { disable_specified_optimizers: KEEP_WEIGHT_CASTS } } : {}),
      },
    }).catch((err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      if (!CPU_FALLBACK_REFUSED.test(message)) throw err;
      throw new UserError(
        `the graph ${path.basename(modelPath)} has operators the CUDA execution provider cannot run, and running them on the CPU is refused ` +
          `(it would copy tensors between the GPU and the CPU at every step); ONNX Runtime said: "${message.trim()}". ` +
          'Run scripts/gpu-check.sh to see where each operator runs, or set device: cpu',
      );
    });
    return new OrtSession(session);
  }
}
