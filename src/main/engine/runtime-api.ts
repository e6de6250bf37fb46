// The engine's view of an executor: what the training code needs from ONNX Runtime, as
// interfaces. runtime/ort-runtime.ts implements them (the only code importing onnxruntime-node).
import type { DType, Shape, TensorArray } from './ir/types';

export type DevicePreference = 'auto' | 'cuda' | 'cpu';
export type Device = 'cpu' | 'cuda';

/** The device a session runs on and why, in words (shown in the UI and the CLI). */
export interface DeviceChoice {
  device: Device;
  reason: string;
}

export type OptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

export interface SessionOptions {
  device: Device;
  /** Intra-op threads on the CPU (physical cores by default). */
  threads?: number;
  /** 'all' for use; 'basic' for float64 reference tests (level 'all' shifts float64 results ~1e-8). */
  optimization?: OptimizationLevel;
  /**
   * Let the CPU kernels keep prepacked copies of constant weights (faster, but each use of a
   * weight holds its own copy: about 2x the weights' memory). Default true.
   */
  prepack?: boolean;
  /**
   * ONNX Runtime's CPU memory arena: faster allocation, but it keeps its peak (grown in doubling
   * chunks) for the session's life. Default true.
   */
  memoryArena?: boolean;
  /**
   * ONNX Runtime's memory pattern: from the second run on, one planned block holds all of a run's
   * intermediate values. The arena keeps the first run's chunks beside that block, so a train
   * session's RSS grows by its activations once more (1.55x instead of 1.3x the weights in the
   * engine benchmark's 256 MiB session) for no measured speed gain. Default false.
   */
  memoryPattern?: boolean;
  /**
   * Keep casts of constant weights as they are: ONNX Runtime's constant folding, and on the CPU its
   * float16-initializer fusion, would turn the cast of each half-precision weight into a float32
   * copy held for the session's life. Default false.
   */
  keepWeightCasts?: boolean;
}

/** A tensor handed to a session: `data` is used in place (a view, never copied by us). */
export interface Tensor {
  dtype: DType;
  shape: Shape;
  data: TensorArray;
}

export interface RuntimeSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /**
   * Runs the graph for the outputs named in `fetch` (all by default; ONNX Runtime then runs only
   * the nodes they need). Outputs named in `into` are written into the given tensors
   * (preallocated views); the others come back as new arrays.
   */
  run(feeds: Readonly<Record<string, Tensor>>, into?: Readonly<Record<string, Tensor>>, fetch?: readonly string[]): Promise<Record<string, TensorArray>>;
  release(): Promise<void>;
}

export interface Runtime {
  /** Resolves `auto | cuda | cpu` to a device, with the reason; `cuda` that cannot run is a UserError. */
  chooseDevice(preference: DevicePreference): Promise<DeviceChoice>;
  /** Loads a model from a path (its external weights file lies next to it). */
  createSession(modelPath: string, options: SessionOptions): Promise<RuntimeSession>;
}
