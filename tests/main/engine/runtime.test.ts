// The ONNX Runtime adapter: device choice in words (auto falls back to the CPU with the reason,
// never silently), and inputs/outputs as views of the caller's buffers.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../src/shared/errors';
import { GraphBuilder } from '../../../src/main/engine/ir/builder';
import { GraphCache } from '../../../src/main/engine/onnx/graph-cache';
import { CUDA_PROVIDER_LIB, ortBinaryDir, probeExecutionProviders } from '../../../src/main/engine/runtime/ort';
import { OrtRuntime, placementOptions } from '../../../src/main/engine/runtime/ort-runtime';
import { tempDir } from '../../helpers/temp';

describe('device choice', () => {
  const runtime = new OrtRuntime();

  it('uses the CPU when asked', async () => {
    expect(await runtime.chooseDevice('cpu')).toEqual({ device: 'cpu', reason: 'the CPU was requested' });
  });

  it('auto picks CUDA when it runs, else the CPU with the reason in words', async () => {
    const cuda = (await probeExecutionProviders()).find((p) => p.name === 'cuda')!;
    const choice = await runtime.chooseDevice('auto');
    if (cuda.usable) {
      expect(choice.device).toBe('cuda');
    } else {
      expect(choice.device).toBe('cpu');
      expect(choice.reason).toBe(`running on the CPU because ${cuda.detail}`);
      await expect(runtime.chooseDevice('cuda')).rejects.toThrow(UserError);
      await expect(runtime.chooseDevice('cuda')).rejects.toThrow(/^CUDA was requested but cannot be used: /);
      if (!existsSync(path.join(ortBinaryDir(), CUDA_PROVIDER_LIB))) expect(choice.reason).toContain('npm run setup:cuda');
    }
  });
});

describe('runs', () => {
  it('read inputs from and write outputs into views of larger buffers', async () => {
    const b = new GraphBuilder('float32');
    const x = b.input('x', [3], 'float32');
    b.output('y', b.mulScalar(x, 2));
    const { modelPath } = new GraphCache(tempDir('engine-rt-')).compile(b.graph, { name: 'v', producerVersion: 't' });
    const session = await new OrtRuntime().createSession(modelPath, { device: 'cpu', threads: 1 });
    const input = Float32Array.of(9, 1, 2, 3, 9);
    const output = new Float32Array(6);
    const view = output.subarray(2, 5);
    const out = await session.run({ x: { dtype: 'float32', shape: [3], data: input.subarray(1, 4) } }, { y: { dtype: 'float32', shape: [3], data: view } });
    expect(out.y).toBe(view);
    expect(Array.from(output)).toEqual([0, 0, 2, 4, 6, 0]);
    expect(session.inputNames).toEqual(['x']);
    await session.release();
  });
});

describe('placement on CUDA', () => {
  it('asks for the CUDA provider alone, with the CPU fallback disabled', () => {
    expect(placementOptions('cuda')).toEqual({ executionProviders: [{ name: 'cuda', deviceId: 0 }], disableCpuFallback: true });
    expect(placementOptions('cpu')).toEqual({ executionProviders: ['cpu'], disableCpuFallback: false });
  });

  it('refuses, in words, a graph that would run on the CPU instead (the CPU provider standing in for CUDA)', async () => {
    const b = new GraphBuilder('float32');
    const x = b.input('x', [3], 'float32');
    b.output('y', b.mulScalar(x, 2));
    const { modelPath } = new GraphCache(tempDir('engine-rt-cuda-')).compile(b.graph, { name: 'v', producerVersion: 't' });
    // With the CPU provider in CUDA's place every node is a CPU fallback: the option reached the
    // session if ONNX Runtime refuses it.
    const standIn = new OrtRuntime({ cudaProvider: 'cpu' });
    const refused = standIn.createSession(modelPath, { device: 'cuda', threads: 1 });
    await expect(refused).rejects.toThrow(UserError);
    await expect(standIn.createSession(modelPath, { device: 'cuda', threads: 1 })).rejects.toThrow(
      /^the graph .+\.onnx has operators the CUDA execution provider cannot run, and running them on the CPU is refused \(it would copy tensors between the GPU and the CPU at every step\); ONNX Runtime said: ".*fallback to CPU EP has been explicitly disabled.*"\. Run scripts\/gpu-check\.sh to see where each operator runs, or set device: cpu$/,
    );
    // The same graph on the CPU, asked for as such, runs.
    const session = await standIn.createSession(modelPath, { device: 'cpu', threads: 1 });
    expect(session.inputNames).toEqual(['x']);
    await session.release();
  });
});
