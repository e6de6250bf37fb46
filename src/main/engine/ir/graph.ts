// The graph IR: values are objects with a static shape and dtype; nodes apply one primitive op
// (ir/ops.ts) to values and produce one value. A Graph is an append-only list of nodes, so creation
// order is a topological order; passes rewrite it into a new node list.
import type { OpAttrs, OpName } from './ops';
import { formatShape, type DType, type Shape, type TensorArray } from './types';

/**
 * Data of an initializer: inline constants hold their data; external ones (base weights, written
 * to the aligned weights file) are read only when that file must be written or hashed, so a cached
 * graph never needs the weights in memory.
 */
export type Initializer =
  | { external: false; data: TensorArray }
  | { external: true; byteLength: number; read(): TensorArray };

export type ValueSource =
  | { kind: 'input' }
  | { kind: 'initializer'; init: Initializer }
  | { kind: 'node'; node: Node };

export class Value {
  constructor(
    readonly id: number,
    readonly name: string,
    readonly shape: Shape,
    readonly dtype: DType,
    readonly source: ValueSource,
  ) {}

  get rank(): number {
    return this.shape.length;
  }

  /** e.g. `model.norm.weight float32[64]`, used in error messages. */
  describe(): string {
    return `${this.name} ${this.dtype}${formatShape(this.shape)}`;
  }
}

export interface Node<K extends OpName = OpName> {
  readonly id: number;
  readonly op: K;
  readonly inputs: readonly Value[];
  readonly attrs: OpAttrs[K];
  readonly output: Value;
  /** The builder scope the node was made in (e.g. `model.layers.0.self_attn`), for messages. */
  readonly scope: string;
  /**
   * The recomputation group of a forward node (`layer:3`, `loss:0`; see passes/recompute.ts): the
   * backward may recompute a group's values from the values that enter it instead of keeping them.
   */
  readonly group?: string;
  /** A copy made by the recomputation pass (common-subexpression elimination keeps it apart). */
  readonly recomputed?: boolean;
}

export function producer(v: Value): Node | undefined {
  return v.source.kind === 'node' ? v.source.node : undefined;
}

/** An error about the graph being built, naming the op and scope where it happened. */
export class GraphError extends Error {
  override name = 'GraphError';
}

export class Graph {
  nodes: Node[] = [];
  readonly inputs: Value[] = [];
  initializers: Value[] = [];
  /** Graph outputs by name, in the order they were declared. */
  readonly outputs = new Map<string, Value>();
  /**
   * Outputs computed only when a scalar bool input is true (a train graph's gradients), so the
   * same session can run forward-only; the serializer emits them inside an ONNX If (onnx/gate.ts).
   */
  gate?: { input: Value; outputs: ReadonlySet<string> };
  private nextId = 0;

  newId(): number {
    return this.nextId++;
  }

  /** Replaces the node list (passes); initializers no node uses any more are dropped. */
  setNodes(nodes: Node[], outputs?: Map<string, Value>): void {
    this.nodes = nodes;
    if (outputs) {
      this.outputs.clear();
      for (const [k, v] of outputs) this.outputs.set(k, v);
    }
    const used = new Set<number>();
    for (const n of nodes) for (const i of n.inputs) used.add(i.id);
    for (const v of this.outputs.values()) used.add(v.id);
    this.initializers = this.initializers.filter((v) => used.has(v.id));
  }

  /** Count of nodes per op, for reports and tests. */
  opCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const n of this.nodes) counts[n.op] = (counts[n.op] ?? 0) + 1;
    return counts;
  }
}
