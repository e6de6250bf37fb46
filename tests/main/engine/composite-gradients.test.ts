// Composite ops (built from primitives): forward values against plain JS references, and float64
// gradients against central differences, including the causal-LM loss with ignored labels.
import { describe, expect, it } from 'vitest';
import {
  applyRope, causalAttention, causalLmLoss, causalMask, slicedCausalLmLoss, gelu, geluTanh, layerNorm, logSoftmax, rmsNorm, ropeInvFreq, ropeTables, silu,
} from '../../../src/main/engine/ir/composite';
import { tempDir } from '../../helpers/temp';
import { gradCheck } from './gradcheck';

const cacheDir = tempDir('engine-composite-');

function rows(a: Float64Array, width: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < a.length; i += width) out.push(Array.from(a.subarray(i, i + width)));
  return out;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) expect(Math.abs(actual[i]! - expected[i]!), `element ${i}`).toBeLessThan(tol);
}

describe('composite ops', () => {
  it('softmax: rows sum to one, matches exp(x)/sum, gradient exact', async () => {
    const r = await gradCheck(cacheDir, [{ shape: [3, 5] }], (b, [x]) => b.softmax(x!));
    const ref = rows(r.x[0]!, 5).flatMap((row) => {
      const e = row.map(Math.exp);
      const s = e.reduce((p, q) => p + q, 0);
      return e.map((v) => v / s);
    });
    expectClose(r.y, ref, 1e-14);
    expect(r.worst).toBeLessThan(1e-6);
  });

  it('logSoftmax matches log of softmax', async () => {
    const r = await gradCheck(cacheDir, [{ shape: [2, 4] }], (b, [x]) => logSoftmax(b, x!));
    const ref = rows(r.x[0]!, 4).flatMap((row) => {
      const lse = Math.log(row.reduce((p, q) => p + Math.exp(q), 0));
      return row.map((v) => v - lse);
    });
    expectClose(r.y, ref, 1e-14);
    expect(r.worst).toBeLessThan(1e-6);
  });

  it('rmsNorm matches x / sqrt(mean(x²) + eps) · w', async () => {
    const r = await gradCheck(cacheDir, [{ shape: [2, 4] }, { shape: [4] }], (b, [x, w]) => rmsNorm(b, x!, w!, 1e-5));
    const w = r.x[1]!;
    const ref = rows(r.x[0]!, 4).flatMap((row) => {
      const inv = 1 / Math.sqrt(row.reduce((p, q) => p + q * q, 0) / 4 + 1e-5);
      return row.map((v, i) => v * inv * w[i]!);
    });
    expectClose(r.y, ref, 1e-14);
    expect(r.worst).toBeLessThan(1e-6);
  });

  it('layerNorm matches (x - mean)/sqrt(var + eps) · w + b', async () => {
    const r = await gradCheck(cacheDir, [{ shape: [2, 5] }, { shape: [5] }, { shape: [5] }], (b, [x, w, c]) => layerNorm(b, x!, w!, c!, 1e-5));
    const [, w, c] = r.x as [Float64Array, Float64Array, Float64Array];
    const ref = rows(r.x[0]!, 5).flatMap((row) => {
      const mu = row.reduce((p, q) => p + q, 0) / 5;
      const v = row.reduce((p, q) => p + (q - mu) ** 2, 0) / 5;
      return row.map((x, i) => ((x - mu) / Math.sqrt(v + 1e-5)) * w[i]! + c[i]!);
    });
    expectClose(r.y, ref, 1e-14);
    expect(r.worst).toBeLessThan(1e-6);
  });

  it('silu, gelu (tanh form) and gelu (exact, float32 erf inside)', async () => {
    const s = await gradCheck(cacheDir, [{ shape: [6] }], (b, [x]) => silu(b, x!));
    expectClose(s.y, Array.from(s.x[0]!, (x) => x / (1 + Math.exp(-x))), 1e-15);
    expect(s.worst).toBeLessThan(1e-6);
    const t = await gradCheck(cacheDir, [{ shape: [6] }], (b, [x]) => geluTanh(b, x!));
    expectClose(t.y, Array.from(t.x[0]!, (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)))), 1e-15);
    expect(t.worst).toBeLessThan(1e-6);
    const g = await gradCheck(cacheDir, [{ shape: [6] }], (b, [x]) => gelu(b, x!), { eps: 1e-3 });
    expect(g.worst).toBeLessThan(1e-3);
    // exact gelu(x) = x·Φ(x) at x = 1, -1, 2
    const gv = await gradCheck(cacheDir, [{ shape: [3] }], (b, [x]) => gelu(b, b.add(b.mulScalar(x!, 0), b.constant([1, -1, 2], [3]))));
    expectClose(gv.y, [0.8413447460685429, -0.15865525393145707, 1.9544997361036416], 1e-7);
  });

  it('rope: rotates pairs (i, i + d/2) by t·invFreq and keeps norms', async () => {
    const T = 3;
    const d = 4;
    const inv = ropeInvFreq(d, 10000);
    const { cos, sin } = ropeTables(T, inv);
    const r = await gradCheck(cacheDir, [{ shape: [2, T, d] }], (b, [x]) => applyRope(b, x!, b.constant(cos, [T, d]), b.constant(sin, [T, d])));
    const x = r.x[0]!;
    for (let h = 0; h < 2; h++) {
      for (let t = 0; t < T; t++) {
        for (let i = 0; i < d / 2; i++) {
          const a = t * inv[i]!;
          const o = (h * T + t) * d;
          const [x1, x2] = [x[o + i]!, x[o + i + d / 2]!];
          expect(r.y[o + i]).toBeCloseTo(x1 * Math.cos(a) - x2 * Math.sin(a), 14);
          expect(r.y[o + i + d / 2]).toBeCloseTo(x2 * Math.cos(a) + x1 * Math.sin(a), 14);
        }
      }
    }
    expect(r.worst).toBeLessThan(1e-6);
  });

  it('causal attention with grouped KV heads matches a naive loop, gradients for q, k, v', async () => {
    const [B, H, K, T, D] = [1, 4, 2, 3, 2];
    const r = await gradCheck(cacheDir, [{ shape: [B, H, T, D] }, { shape: [B, K, T, D] }, { shape: [B, K, T, D] }], (b, [q, k, v]) =>
      causalAttention(b, q!, k!, v!, causalMask(b, T)),
    );
    const [q, k, v] = r.x as [Float64Array, Float64Array, Float64Array];
    for (let h = 0; h < H; h++) {
      const kh = Math.floor(h / (H / K));
      for (let t = 0; t < T; t++) {
        const s = [];
        for (let u = 0; u <= t; u++) {
          let dot = 0;
          for (let i = 0; i < D; i++) dot += q[(h * T + t) * D + i]! * k[(kh * T + u) * D + i]!;
          s.push(dot / Math.sqrt(D));
        }
        const m = Math.max(...s);
        const e = s.map((x) => Math.exp(x - m));
        const z = e.reduce((p, c) => p + c, 0);
        for (let i = 0; i < D; i++) {
          let o = 0;
          for (let u = 0; u <= t; u++) o += (e[u]! / z) * v[(kh * T + u) * D + i]!;
          expect(r.y[(h * T + t) * D + i]).toBeCloseTo(o, 13);
        }
      }
    }
    expect(r.worst).toBeLessThan(1e-6);
  });

  it('causal-LM loss: shifted labels, -100 ignored, mean over kept labels', async () => {
    const [B, T, V] = [2, 4, 5];
    const labels = [3, 1, -100, 4, 0, 2, 2, -100];
    const r = await gradCheck(cacheDir, [{ shape: [B, T, V] }], (b, [logits]) =>
      causalLmLoss(b, logits!, b.constant(labels, [B, T], 'int32')).loss,
    );
    const x = r.x[0]!;
    let sum = 0;
    let n = 0;
    for (let bi = 0; bi < B; bi++) {
      for (let t = 0; t < T - 1; t++) {
        const target = labels[bi * T + t + 1]!;
        if (target === -100) continue;
        const row = Array.from(x.subarray((bi * T + t) * V, (bi * T + t + 1) * V));
        const lse = Math.log(row.reduce((p, q) => p + Math.exp(q), 0));
        sum += lse - row[target]!;
        n++;
      }
    }
    expect(n).toBe(4);
    expect(r.y[0]).toBeCloseTo(sum / n, 13);
    expect(r.worst).toBeLessThan(1e-6);
  });

  it('the vocabulary-sliced loss from hidden states equals the loss of the whole logits, gradients exact', async () => {
    // V = 7 in slices of 3, 3 and 1 rows: the log-sum-exp across slices and the uneven last slice
    const [B, T, C, V] = [2, 4, 3, 7];
    const labels = [3, 1, -100, 6, 0, 2, 5, -100];
    const sliced = await gradCheck(cacheDir, [{ shape: [B, T, C] }, { shape: [V, C] }], (b, [h, table]) =>
      slicedCausalLmLoss(b, h!, table!, b.constant(labels, [B, T], 'int32'), 3).loss,
    );
    expect(sliced.worst).toBeLessThan(1e-6);
    const [h, table] = sliced.x as [Float64Array, Float64Array];
    let sum = 0;
    for (let bi = 0; bi < B; bi++) {
      for (let t = 0; t < T - 1; t++) {
        const target = labels[bi * T + t + 1]!;
        if (target === -100) continue;
        const logits = Array.from({ length: V }, (_, v) => {
          let dot = 0;
          for (let c = 0; c < C; c++) dot += h[(bi * T + t) * C + c]! * table[v * C + c]!;
          return dot;
        });
        sum += Math.log(logits.reduce((p, q) => p + Math.exp(q), 0)) - logits[target]!;
      }
    }
    expect(sliced.y[0]).toBeCloseTo(sum / 4, 12);
  });
});
