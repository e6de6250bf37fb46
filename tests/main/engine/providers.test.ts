import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CUDA_PROVIDER_LIB, ORT_VERSION, ortBinaryDir, probeExecutionProviders } from '../../../src/main/engine/runtime/ort';

describe('execution providers', () => {
  it('reports ONNX Runtime 1.29.0, the version the CUDA provider libraries must match', () => {
    expect(ORT_VERSION).toBe('1.29.0');
  });

  it('always offers the CPU, and says in words whether CUDA is usable', async () => {
    const providers = await probeExecutionProviders();
    expect(providers.map((p) => p.name)).toEqual(['cpu', 'cuda']);
    expect(providers[0]!.usable).toBe(true);
    const cuda = providers[1]!;
    expect(cuda.detail.length).toBeGreaterThan(20);
    if (!existsSync(path.join(ortBinaryDir(), CUDA_PROVIDER_LIB))) {
      expect(cuda.usable).toBe(false);
      expect(cuda.detail).toContain('npm run setup:cuda');
    }
  });
});
