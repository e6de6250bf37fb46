// Gated outputs: with the flag true a gated graph gives exactly what the ungated one gives; with it
// false the main outputs are unchanged and the gated ones come back empty. In a train graph every
// backward node lies in the If's then-branch, so an evaluation runs none of them.
import { describe, expect, it } from 'vitest';
import { buildGraph, GRAD_PREFIX, GRADIENTS_FLAG } from '../../../../src/main/engine/graphs';
import { GraphBuilder } from '../../../../src/main/engine/ir/builder';
import { initBaseWeights } from '../../../../src/main/engine/models/init';
import type { DecoderConfig } from '../../../../src/main/engine/models/config';
import { gateOutputs } from '../../../../src/main/engine/onnx/gate';
import { GraphCache } from '../../../../src/main/engine/onnx/graph-cache';
import type { GraphData } from '../../../../src/main/engine/onnx/model-proto';
import { toModelData } from '../../../../src/main/engine/onnx/serialize';
import { OrtRuntime } from '../../../../src/main/engine/runtime/ort-runtime';
import type { TensorArray } from '../../../../src/main/engine/ir/types';
import type { Tensor } from '../../../../src/main/engine/runtime-api';
import { parameterShapes } from '../../../../src/main/engine/graphs';
import { weightsFromMap } from '../../../../src/main/engine/weights';
import { tempDir } from '../../../helpers/temp';

const cacheDir = tempDir('engine-gate-');

/** A float output's values as plain numbers. */
const values = (a: TensorArray): number[] => Array.from(a as Float64Array);

/** y = 2x (main); a = x + 1 (gated, and main's b = 3a needs it); z = exp(x)·y (gated only). */
function build(gated: boolean) {
  const b = new GraphBuilder('float64');
  const x = b.input('x', [4], 'float64');
  const y = b.mulScalar(x, 2);
  const a = b.addScalar(x, 1);
  b.output('y', y);
  b.output('a', a);
  b.output('b', b.mulScalar(a, 3));
  b.output('z', b.mul(b.exp(x), y));
  if (gated) b.gateOutputs(b.input('flag', [], 'bool'), ['a', 'z']);
  return b.graph;
}

async function open(gated: boolean) {
  const { modelPath } = new GraphCache(cacheDir).compile(build(gated), { name: gated ? 'gated' : 'plain', producerVersion: 'test' });
  return new OrtRuntime().createSession(modelPath, { device: 'cpu', threads: 1, optimization: 'basic' });
}

describe('gated outputs', () => {
  it('give the ungated values with the flag on, and only the main outputs with it off', async () => {
    const plain = await open(false);
    const gated = await open(true);
    try {
      const x: Tensor = { dtype: 'float64', shape: [4], data: Float64Array.of(-1, 0, 0.5, 2) };
      const flag = (on: boolean): Tensor => ({ dtype: 'bool', shape: [], data: Uint8Array.of(on ? 1 : 0) });
      const ref = await plain.run({ x });
      const on = await gated.run({ x, flag: flag(true) });
      for (const k of ['y', 'a', 'b', 'z']) expect(values(on[k]!), k).toEqual(values(ref[k]!));
      const off = await gated.run({ x, flag: flag(false) });
      expect(values(off.y!)).toEqual(values(ref.y!));
      expect(values(off.b!)).toEqual(values(ref.b!));
      expect(off.a!.length).toBe(0);
      expect(off.z!.length).toBe(0);
      expect(gated.inputNames).toEqual(['x', 'flag']);
    } finally {
      await plain.release();
      await gated.release();
    }
  });

  it('refuses a flag that is not a scalar bool input, and outputs that do not exist', () => {
    const b = new GraphBuilder('float32');
    const x = b.input('x', [2], 'float32');
    b.output('y', b.exp(x));
    expect(() => b.gateOutputs(x, ['y'])).toThrow('must be a scalar bool graph input');
    expect(() => b.gateOutputs(b.input('flag', [], 'bool'), ['nope'])).toThrow('gated output "nope" is not a graph output');
    const data: GraphData = { name: 'g', nodes: [], initializers: [], inputs: [{ name: 'x', dtype: 'float32', shape: [2] }], outputs: [] };
    expect(() => gateOutputs(data, { input: 'x', outputs: new Set() })).toThrow('gate input x must be a scalar bool graph input');
  });

  it('puts every backward node of a train graph into the then-branch', () => {
    const config: DecoderConfig = {
      vocab_size: 32, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 2, num_attention_heads: 2, rms_norm_eps: 1e-5, rope_theta: 10000,
    };
    const weights = weightsFromMap(initBaseWeights(parameterShapes(config), 1));
    const built = buildGraph(
      { kind: 'train', model: config, adapter: { kind: 'lora', r: 2, alpha: 4, targetModules: ['q_proj', 'v_proj'] }, batchSize: 2, seqLen: 5, dtype: 'float32' },
      weights,
    );
    const data = toModelData(built.builder.graph, { name: 'train', producerVersion: 'test', externalLocation: () => ({ location: 'w.bin', offset: 0, length: 4 }) });
    const gate = data.graph.nodes.find((n) => n.opType === 'If')!;
    expect(gate.inputs).toEqual([GRADIENTS_FLAG]);
    expect([...gate.outputs].sort()).toEqual(built.trainable.map((p) => GRAD_PREFIX + p.name).sort());
    const branch = gate.attributes.then_branch!;
    if (branch.kind !== 'graph') throw new Error('then_branch is not a graph');
    const isBackward = (name: string) => name.startsWith('grad:') || name.startsWith('grad/');
    expect(data.graph.nodes.filter((n) => isBackward(n.name))).toEqual([]);
    expect(branch.value.nodes.filter((n) => isBackward(n.name)).length).toBeGreaterThan(50);
    // the forward pass stays in the main graph: the eval outputs need nothing from the branch (and
    // logits are not an output: the loss is computed from the hidden states in chunks)
    expect(data.graph.outputs.filter((o) => !o.name.startsWith(GRAD_PREFIX)).map((o) => o.name).sort()).toEqual(['loss', 'loss_sum', 'token_count']);
  });
});
