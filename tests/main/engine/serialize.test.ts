// The serializer and the graph cache: ONNX IR version and opset, base weights as external data at
// 4096-byte offsets, content-addressed model files (a hit for the same graph, a miss when a shape
// changes), and a session loaded from the cached path.
import { readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../src/main/engine/ir/builder';
import { GraphCache } from '../../../src/main/engine/onnx/graph-cache';
import { encodeModel } from '../../../src/main/engine/onnx/model-proto';
import { IR_VERSION, OPSET, toModelData } from '../../../src/main/engine/onnx/serialize';
import { layoutWeights, WEIGHTS_ALIGNMENT } from '../../../src/main/engine/onnx/weights-file';
import { OrtRuntime } from '../../../src/main/engine/runtime/ort-runtime';
import { tempDir } from '../../helpers/temp';

function build(rows: number, weights: Map<string, Float32Array>, reads: string[] = []) {
  const b = new GraphBuilder('float32', {
    resolve: (name) => ({ kind: 'frozen', size: weights.get(name)!.length, read: () => (reads.push(name), weights.get(name)!) }),
  });
  const x = b.input('x', [rows, 3], 'float32');
  const y = b.scope('layer', () => b.matmul(x, b.param('w', [5, 3]), { transB: true }));
  b.output('y', b.add(y, b.scope('layer', () => b.param('bias', [5]))));
  return b.graph;
}

describe('ONNX serialization and the graph cache', () => {
  const weights = new Map([
    ['layer.w', Float32Array.from({ length: 15 }, (_, i) => i)],
    ['layer.bias', Float32Array.from({ length: 5 }, (_, i) => -i)],
  ]);

  it('emits IR version 8, opset 17, and external initializers', () => {
    const g = build(2, weights);
    const data = toModelData(g, { name: 't', producerVersion: 'x', externalLocation: (n) => ({ location: 'weights.bin', offset: n === 'layer.w' ? 0 : 4096, length: 4 }) });
    expect(data.irVersion).toBe(IR_VERSION);
    expect(IR_VERSION).toBe(8);
    expect(data.opsets).toEqual([{ domain: '', version: OPSET }]);
    expect(OPSET).toBeGreaterThanOrEqual(17);
    expect(data.graph.initializers.filter((t) => t.external).map((t) => t.name).sort()).toEqual(['layer.bias', 'layer.w']);
    expect(data.graph.nodes.map((n) => n.opType)).toEqual(['Gemm', 'Add']);
    expect(encodeModel(data).length).toBeGreaterThan(50);
  });

  it('lays out weights at 4096-byte boundaries, in name order', () => {
    const layout = layoutWeights('w.bin', [{ name: 'b', byteLength: 10 }, { name: 'a', byteLength: 5000 }]);
    expect(layout.entries.get('a')).toEqual({ location: 'w.bin', offset: 0, length: 5000 });
    expect(layout.entries.get('b')!.offset).toBe(2 * WEIGHTS_ALIGNMENT);
  });

  it('caches by content: same graph hits, a new shape misses, and the session runs from the path', async () => {
    const dir = tempDir('engine-cache-');
    const cache = new GraphCache(dir);
    const a = cache.compile(build(2, weights), { name: 'm', producerVersion: 'x' });
    const a2 = cache.compile(build(2, weights), { name: 'm', producerVersion: 'x' });
    const c = cache.compile(build(4, weights), { name: 'm', producerVersion: 'x' });
    expect(a.cached).toBe(false);
    expect(a2).toEqual({ ...a, cached: true });
    expect(c.key).not.toBe(a.key);
    expect(c.weightsKey).toBe(a.weightsKey); // one weights file serves both shapes
    const other = new Map(weights);
    other.set('layer.bias', Float32Array.of(9, 9, 9, 9, 9));
    expect(cache.compile(build(2, other), { name: 'm', producerVersion: 'x' }).weightsKey).not.toBe(a.weightsKey);
    // with a weights key and a warm cache, the weights are never read
    const reads: string[] = [];
    cache.compile(build(2, weights, reads), { name: 'm', producerVersion: 'x', weightsKey: 'model-folder-hash' });
    expect(reads.sort()).toEqual(['layer.bias', 'layer.w']); // first time: written
    reads.length = 0;
    expect(cache.compile(build(8, weights, reads), { name: 'm', producerVersion: 'x', weightsKey: 'model-folder-hash' }).cached).toBe(false);
    expect(reads).toEqual([]);
    const weightsFile = a.modelPath.replace(/[^/\\]+$/, 'weights.bin');
    expect(statSync(weightsFile).size).toBe(WEIGHTS_ALIGNMENT + 15 * 4); // layer.bias at 0, layer.w at 4096
    expect(readFileSync(a.modelPath).includes(Buffer.from('weights.bin'))).toBe(true);

    const session = await new OrtRuntime().createSession(a.modelPath, { device: 'cpu', threads: 1 });
    const out = await session.run({ x: { dtype: 'float32', shape: [2, 3], data: Float32Array.of(1, 0, 0, 0, 1, 1) } });
    await session.release();
    // y[i, o] = sum_k x[i, k] · w[o, k] + bias[o], with w[o, k] = 3o + k and bias[o] = -o
    expect(Array.from(out.y as Float32Array)).toEqual([0, 2, 4, 6, 8, 3, 8, 13, 18, 23]);
  });
});
