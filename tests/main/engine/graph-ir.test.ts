// The builder, the autodiff driver and the passes: names from scopes, errors that name the op and
// scope, gradient walks limited to the requested paths, and passes that keep results unchanged.
import { describe, expect, it } from 'vitest';
import { gradients } from '../../../src/main/engine/autodiff/gradients';
import { GraphBuilder } from '../../../src/main/engine/ir/builder';
import { parameterShapes } from '../../../src/main/engine/graphs';
import { eliminateCommonSubexpressions } from '../../../src/main/engine/passes/cse';
import { removeDeadNodes } from '../../../src/main/engine/passes/dead-nodes';
import { foldShapes } from '../../../src/main/engine/passes/shape-folding';

const trainable = { resolve: () => ({ kind: 'trainable' as const }) };

describe('graph builder', () => {
  it('names parameters from the scope stack, dotted like checkpoint keys', () => {
    const b = new GraphBuilder('float32', trainable);
    const w = b.scope('model', () => b.scope('layers.3', () => b.scope('self_attn', () => b.scope('q_proj', () => b.param('weight', [4, 4])))));
    expect(w.name).toBe('model.layers.3.self_attn.q_proj.weight');
    // the same name again is the same value (tied weights)
    expect(b.paramAt('model.layers.3.self_attn.q_proj.weight', [4, 4])).toBe(w);
    expect(() => b.paramAt('model.layers.3.self_attn.q_proj.weight', [4, 5])).toThrow('is used with shape [4, 5] but was declared [4, 4]');
  });

  it('gives the Hugging Face parameter names of a Llama model', () => {
    const names = parameterShapes({ vocab_size: 10, hidden_size: 8, intermediate_size: 12, num_hidden_layers: 2, num_attention_heads: 2, rms_norm_eps: 1e-5, rope_theta: 1e4 }).map((p) => p.name);
    expect(names).toContain('model.embed_tokens.weight');
    expect(names).toContain('model.layers.1.self_attn.q_proj.weight');
    expect(names).toContain('model.layers.0.mlp.down_proj.weight');
    expect(names).toContain('model.layers.1.post_attention_layernorm.weight');
    expect(names).toContain('model.norm.weight');
    expect(names).toContain('lm_head.weight');
    expect(names).toHaveLength(1 + 2 * 9 + 2);
  });

  it('names the op and the scope when shapes disagree', () => {
    const b = new GraphBuilder('float32');
    const x = b.input('x', [2, 3], 'float32');
    const y = b.input('y', [4, 5], 'float32');
    expect(() => b.scope('model', () => b.scope('mlp', () => b.matmul(x, y)))).toThrow(/^matmul in model\.mlp: needs inputs of equal rank|^matmul in model\.mlp: inner dims differ/);
    expect(() => b.scope('head', () => b.add(x, y))).toThrow('add in head: shapes [2, 3] and [4, 5] do not broadcast');
  });
});

describe('autodiff driver', () => {
  it('walks only paths from the requested parameters, sums fan-out and reduces broadcasts', () => {
    const b = new GraphBuilder('float64', trainable);
    const w = b.param('w', [3]);
    const u = b.param('u', [2, 3]);
    const y = b.mul(b.add(u, w), w); // w is broadcast and used twice
    const loss = b.reduceSum(y, [0, 1], false);
    const before = b.graph.nodes.length;
    const [gw] = gradients(b, loss, [w]);
    expect(gw!.shape).toEqual([3]);
    // no gradient is built for u: no node may take u's gradient path (mul by w for u alone)
    const added = b.graph.nodes.slice(before);
    expect(added.some((n) => n.op === 'reduceSum' && n.inputs[0]!.shape.join() === '2,3')).toBe(true);
    expect(added.length).toBeLessThan(12);
  });

  it('says when a parameter has no path to the loss', () => {
    const b = new GraphBuilder('float32', trainable);
    const w = b.param('w', [3]);
    const v = b.param('v', [3]);
    const loss = b.reduceSum(b.mul(w, w), [0], false);
    expect(() => gradients(b, loss, [v])).toThrow('no gradient path from the loss to v float32[3]');
  });

  it('treats detached values as constants', () => {
    const b = new GraphBuilder('float32', trainable);
    const w = b.param('w', [3]);
    const loss = b.reduceSum(b.detach(w), [0], false);
    expect(() => gradients(b, loss, [w])).toThrow('no gradient path');
  });
});

describe('passes', () => {
  it('fold identity layout ops and chains of reshapes and transposes', () => {
    const b = new GraphBuilder('float32');
    const x = b.input('x', [2, 3, 4], 'float32');
    const r = b.reshape(b.reshape(x, [6, 4]), [2, 12]);
    const t = b.transpose(b.transpose(x, [1, 0, 2]), [1, 0, 2]);
    const e = b.expand(x, [2, 3, 4]);
    b.output('r', r);
    b.output('t', b.add(t, e));
    const folded = foldShapes(b.graph);
    removeDeadNodes(b.graph);
    expect(folded).toBeGreaterThanOrEqual(2);
    expect(b.graph.opCounts()).toEqual({ reshape: 1, add: 1 });
    const add = b.graph.nodes.find((n) => n.op === 'add')!;
    expect(add.inputs.map((i) => i.name)).toEqual(['x', 'x']);
    expect(b.graph.nodes.find((n) => n.op === 'reshape')!.inputs[0]!.name).toBe('x');
  });

  it('merge common subexpressions and equal constants, then drop dead nodes', () => {
    const b = new GraphBuilder('float32');
    const x = b.input('x', [4], 'float32');
    const a1 = b.exp(b.mul(x, b.constant([1, 2, 3, 4], [4])));
    const a2 = b.exp(b.mul(x, b.constant([1, 2, 3, 4], [4])));
    b.sqrt(x); // unused
    b.output('y', b.add(a1, a2));
    expect(eliminateCommonSubexpressions(b.graph)).toBe(2);
    expect(removeDeadNodes(b.graph)).toBe(1);
    expect(b.graph.opCounts()).toEqual({ mul: 1, exp: 1, add: 1 });
  });
});
