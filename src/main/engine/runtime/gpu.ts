// The GPU's memory, for the defaults that plan a session's memory on CUDA (memory.ts). ONNX
// Runtime's binding does not report it, so it is asked of the driver's nvidia-smi, once.
import { spawnSync } from 'node:child_process';

/** Total memory of GPU 0 from `nvidia-smi --query-gpu=memory.total --format=csv,noheader,nounits` (MiB), or undefined. */
export function parseGpuMemory(output: string): number | undefined {
  const first = output.split('\n')[0]?.trim() ?? '';
  if (!/^\d+(\.\d+)?$/.test(first)) return undefined;
  const mib = Number(first);
  return mib > 0 ? mib * 2 ** 20 : undefined;
}

let cached: { bytes: number | undefined } | undefined;

/** Bytes of memory on GPU 0, or undefined where the driver's tool is missing or says nothing usable. */
export function gpuMemoryBytes(): number | undefined {
  cached ??= (() => {
    const r = spawnSync('nvidia-smi', ['--query-gpu=memory.total', '--format=csv,noheader,nounits', '--id=0'], { encoding: 'utf8', timeout: 5000 });
    return { bytes: r.status === 0 ? parseGpuMemory(r.stdout) : undefined };
  })();
  return cached.bytes;
}
