// Child process of the engine benchmark: which emission of a linear layer's weight W keeps the
// least memory when W serves both the forward (y = x·Wᵀ) and the backward (dx = g·W) matmul, at
// 256 MiB of weights. Forms: `gemm` keeps Hugging Face's [out, in] layout (Gemm transB=1 forward,
// MatMul backward); `transposed` stores Wᵀ (MatMul forward, Gemm transB=1 backward).
// Usage: tsx tests/bench/engine-emission.ts gemm|transposed on|off CACHE_DIR  (on/off: prepacking)
import { GraphBuilder } from '../../src/main/engine/ir/builder';
import { GraphCache } from '../../src/main/engine/onnx/graph-cache';
import { OrtRuntime } from '../../src/main/engine/runtime/ort-runtime';

const [form, prepack, cacheDir] = process.argv.slice(2);
if ((form !== 'gemm' && form !== 'transposed') || !cacheDir) {
  console.error('usage: engine-emission.ts gemm|transposed on|off CACHE_DIR');
  process.exit(2);
}
const K = 8192;
const M = 256;
const b = new GraphBuilder('float32', { resolve: () => ({ kind: 'frozen', size: K * K, read: () => new Float32Array(K * K).fill(0.001) }) });
const x = b.input('x', [M, K], 'float32');
const gy = b.input('gy', [M, K], 'float32');
const w = b.param(form === 'gemm' ? 'w' : 'wt', [K, K]);
b.output('y', form === 'gemm' ? b.matmul(x, w, { transB: true }) : b.matmul(x, w));
b.output('gx', form === 'gemm' ? b.matmul(gy, w) : b.matmul(gy, w, { transB: true }));
const { modelPath } = new GraphCache(cacheDir).compile(b.graph, { name: form, producerVersion: 'bench' });
const rss = () => process.memoryUsage().rss / 2 ** 20;
const before = rss();
const session = await new OrtRuntime().createSession(modelPath, { device: 'cpu', threads: 1, prepack: prepack === 'on' });
const ones = new Float32Array(M * K).fill(1);
const feeds = { x: { dtype: 'float32' as const, shape: [M, K], data: ones }, gy: { dtype: 'float32' as const, shape: [M, K], data: ones } };
await session.run(feeds);
const t0 = performance.now();
await session.run(feeds);
const ms = performance.now() - t0;
console.log(JSON.stringify({ form, prepack, weights_mb: (K * K * 4) / 2 ** 20, rss_mb: rss() - before, step_ms: ms }));
await session.release();
