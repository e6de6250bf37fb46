// The runtime adapter: the only module that imports onnxruntime-node. Everything else in the
// engine speaks to ONNX Runtime through what this file exports.
import { existsSync } from 'node:fs';
import os from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ExecutionProviderStatus } from '../../../shared/services/system';
import { encodeModel } from '../onnx/model-proto';

const nodeRequire = createRequire(import.meta.url);

export const ORT_VERSION: string = ort.env.versions.node ?? ort.env.versions.common;

/** The folder that holds libonnxruntime.so and, once installed, the CUDA provider libraries. */
export function ortBinaryDir(): string {
  const pkg = path.dirname(nodeRequire.resolve('onnxruntime-node/package.json'));
  return path.join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
}

export const CUDA_PROVIDER_LIB = 'libonnxruntime_providers_cuda.so';
export const SHARED_PROVIDER_LIB = 'libonnxruntime_providers_shared.so';

/** The smallest model there is (y = Identity(x)); used to ask a provider whether it loads. */
function identityModel(): Uint8Array {
  return encodeModel({
    irVersion: 8,
    producerName: 'dynamics-studio',
    producerVersion: ORT_VERSION,
    opsets: [{ domain: '', version: 17 }],
    graph: {
      name: 'probe',
      nodes: [{ opType: 'Identity', name: 'identity', inputs: ['x'], outputs: ['y'], attributes: {} }],
      initializers: [],
      inputs: [{ name: 'x', dtype: 'float32', shape: [1] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1] }],
    },
  });
}

async function probeCuda(): Promise<ExecutionProviderStatus> {
  const unusable = (detail: string): ExecutionProviderStatus => ({ name: 'cuda', usable: false, detail });
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return unusable(`the CUDA execution provider is only supported on Linux x64 (this is ${process.platform} ${process.arch})`);
  }
  const dir = ortBinaryDir();
  for (const lib of [SHARED_PROVIDER_LIB, CUDA_PROVIDER_LIB]) {
    if (!existsSync(path.join(dir, lib))) {
      return unusable(`the CUDA execution provider is not installed: ${lib} is missing next to ONNX Runtime ${ORT_VERSION} (run \`npm run setup:cuda\`)`);
    }
  }
  // Ask the dynamic loader first: it names what is missing (libcublasLt, the driver), where ORT
  // would only log "Failed to load shared library" to stderr.
  const missing = loaderError(path.join(dir, CUDA_PROVIDER_LIB));
  if (missing) return unusable(`the CUDA execution provider is installed but cannot load: ${missing}`);
  try {
    const session = await ort.InferenceSession.create(identityModel(), { executionProviders: ['cuda'] });
    const x = new ort.Tensor('float32', Float32Array.of(1), [1]);
    await session.run({ x });
    await session.release();
    return { name: 'cuda', usable: true, detail: `CUDA execution provider of ONNX Runtime ${ORT_VERSION} loaded and ran a test graph` };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return unusable(`the CUDA execution provider loads but cannot run: ${firstLine(message)}`);
  }
}

/** The dynamic loader's message when `library` (or one of its dependencies) cannot be loaded. */
function loaderError(library: string): string | undefined {
  try {
    process.dlopen({ exports: {} }, library, os.constants.dlopen.RTLD_LAZY);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // A library that loads but is not a Node addon "did not self-register": the loader is fine.
    if (!/self-register|napi_register_module/i.test(message)) return firstLine(message);
  }
  return undefined;
}

function firstLine(text: string): string {
  const line = text.split('\n').find((l) => l.trim().length > 0) ?? text;
  return line.trim();
}

let providerCache: Promise<ExecutionProviderStatus[]> | undefined;

/** What each execution provider can do on this machine, in words. Probed once per process. */
export function probeExecutionProviders(): Promise<ExecutionProviderStatus[]> {
  providerCache ??= (async () => [
    { name: 'cpu', usable: true, detail: `always available (ONNX Runtime ${ORT_VERSION})` } satisfies ExecutionProviderStatus,
    await probeCuda(),
  ])();
  return providerCache;
}
