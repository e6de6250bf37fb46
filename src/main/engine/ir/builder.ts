// The graph builder: typed op methods, a scope stack that names values (parameters come out dotted
// exactly like Hugging Face checkpoint keys), constants, inputs and parameters. Every op goes
// through `apply`, which asks the op's registry entry for the result's shape and dtype, so a shape
// mistake fails here, naming the op and the scope.
import { Graph, GraphError, type Node, Value } from './graph';
import type { OpAttrs, OpName } from './ops';
import { OPS } from './registry';
import { dtypeBytes, formatShape, isHalf, numel, type DType, type FloatArray, type FloatDType, type HalfDType, type Shape, type TensorArray } from './types';

/**
 * How a named parameter enters the graph: fed at run time (trainable) or baked in as a frozen base
 * weight of `size` elements, read lazily.
 */
export type ParamBinding =
  | { kind: 'trainable' }
  /** `stored`: the weight's half-precision storage type (read() then gives its bits). */
  | { kind: 'frozen'; size: number; stored?: HalfDType; read(): FloatArray | Uint16Array };

export interface ParamResolver {
  resolve(name: string, shape: Shape): ParamBinding;
}

/** A parameter the graph needs, as the builder met it. */
export interface ParamRef {
  name: string;
  shape: Shape;
  value: Value;
  trainable: boolean;
}

export interface BuilderOptions {
  /**
   * Products with a half-precision base weight run in its dtype (see storedMatmul); off, the
   * weight is cast to the graph's float type first.
   */
  halfCompute?: boolean;
}

export class GraphBuilder {
  readonly graph = new Graph();
  private readonly scopes: string[] = [];
  private group: string | undefined;
  private readonly params = new Map<string, ParamRef>();
  /** Float casts of half-precision parameters, made at first use. */
  private readonly floatViews = new Map<string, Value>();
  private readonly constCache = new Map<string, Value>();
  private readonly names = new Set<string>();

  constructor(
    /** The float type of activations and parameters (float32 for use, float64 for tests). */
    readonly dtype: FloatDType,
    private readonly resolver?: ParamResolver,
    private readonly options: BuilderOptions = {},
  ) {}

  // ---- naming ---------------------------------------------------------------------------------

  /** Runs `fn` with `name` pushed on the scope stack. */
  scope<T>(name: string, fn: () => T): T {
    this.scopes.push(name);
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  /**
   * Runs `fn` with its nodes in recomputation group `key` (a decoder layer, a cross-entropy slice):
   * see passes/recompute.ts. Groups do not nest.
   */
  recomputeGroup<T>(key: string, fn: () => T): T {
    if (this.group !== undefined) throw new GraphError(`recomputation group ${key} opened inside ${this.group}`);
    this.group = key;
    try {
      return fn();
    } finally {
      this.group = undefined;
    }
  }

  /** Runs `fn` with the scope stack replaced by `path` (the autodiff driver names gradients this way). */
  atScope<T>(path: string, fn: () => T): T {
    const saved = this.scopes.splice(0, this.scopes.length);
    if (path) this.scopes.push(path);
    try {
      return fn();
    } finally {
      this.scopes.splice(0, this.scopes.length, ...saved);
    }
  }

  get currentScope(): string {
    return this.scopes.join('.');
  }

  private qualified(local: string): string {
    return this.scopes.length > 0 ? `${this.currentScope}.${local}` : local;
  }

  private unique(name: string): string {
    if (!this.names.has(name)) {
      this.names.add(name);
      return name;
    }
    for (let i = 1; ; i++) {
      const candidate = `${name}_${i}`;
      if (!this.names.has(candidate)) {
        this.names.add(candidate);
        return candidate;
      }
    }
  }

  // ---- leaves ---------------------------------------------------------------------------------

  /** A graph input fed at run time (token ids, labels). Names are global, not scoped. */
  input(name: string, shape: Shape, dtype: DType): Value {
    if (this.names.has(name)) throw new GraphError(`graph input "${name}" is declared twice`);
    const v = new Value(this.graph.newId(), this.unique(name), [...shape], dtype, { kind: 'input' });
    this.graph.inputs.push(v);
    return v;
  }

  /** The parameter `local` under the current scope, e.g. `weight` in `model.norm` -> `model.norm.weight`. */
  param(local: string, shape: Shape): Value {
    return this.paramAt(this.qualified(local), shape);
  }

  /** `param`, as stored (see storedParamAt). */
  storedParam(local: string, shape: Shape): Value {
    return this.storedParamAt(this.qualified(local), shape);
  }

  /**
   * A parameter by its full name (tied weights refer to another module's parameter), in the
   * builder's float type: a base weight stored in half precision is cast where it is used.
   */
  paramAt(name: string, shape: Shape): Value {
    const stored = this.storedParamAt(name, shape);
    if (!isHalf(stored.dtype)) return stored;
    let view = this.floatViews.get(name);
    if (!view) {
      view = this.cast(stored, this.dtype);
      this.floatViews.set(name, view);
    }
    return view;
  }

  /**
   * A parameter as stored: a frozen base weight may be half precision (bfloat16 or float16) when
   * its binding says so and the graph computes in float32. Gathering rows of such a table before
   * casting them (an embedding) never makes a float32 copy of the whole table.
   */
  storedParamAt(name: string, shape: Shape): Value {
    const known = this.params.get(name);
    if (known) {
      if (formatShape(known.shape) !== formatShape(shape)) {
        throw new GraphError(`parameter ${name} is used with shape ${formatShape(shape)} but was declared ${formatShape(known.shape)}`);
      }
      return known.value;
    }
    if (!this.resolver) throw new GraphError(`parameter ${name} is used but the graph has no parameter resolver`);
    const binding = this.resolver.resolve(name, shape);
    let value: Value;
    if (binding.kind === 'trainable') {
      value = this.input(name, shape, this.dtype);
    } else {
      if (binding.size !== numel(shape)) {
        throw new GraphError(`parameter ${name}: expected ${numel(shape)} values for shape ${formatShape(shape)}, got ${binding.size}`);
      }
      // float64 graphs (reference checks) take every weight in float64
      const dtype: DType = binding.stored && this.dtype === 'float32' ? binding.stored : this.dtype;
      const read = (): TensorArray => {
        const d = binding.read();
        if (d.length !== binding.size) throw new GraphError(`parameter ${name}: read ${d.length} values, expected ${binding.size}`);
        if (isHalf(dtype)) {
          if (!(d instanceof Uint16Array)) throw new GraphError(`parameter ${name}: expected ${dtype} bits, got a ${d.constructor.name}`);
          return d;
        }
        if (d instanceof Uint16Array) throw new GraphError(`parameter ${name}: expected float values, got half-precision bits`);
        if (dtype === 'float64') return d instanceof Float64Array ? d : Float64Array.from(d);
        return d instanceof Float32Array ? d : Float32Array.from(d);
      };
      const init = { external: true as const, byteLength: binding.size * dtypeBytes(dtype), read };
      value = new Value(this.graph.newId(), this.unique(name), [...shape], dtype, { kind: 'initializer', init });
      this.graph.initializers.push(value);
    }
    this.params.set(name, { name, shape: [...shape], value, trainable: binding.kind === 'trainable' });
    return value;
  }

  /** Parameters in the order the model first used them. */
  parameters(): ParamRef[] {
    return [...this.params.values()];
  }

  private constantValue(name: string, shape: Shape, dtype: DType, data: TensorArray): Value {
    const v = new Value(this.graph.newId(), this.unique(name), [...shape], dtype, { kind: 'initializer', init: { external: false, data } });
    this.graph.initializers.push(v);
    return v;
  }

  /** A constant tensor stored in the model (deduplicated by content). */
  constant(values: ArrayLike<number>, shape: Shape, dtype: DType = this.dtype): Value {
    if (values.length !== numel(shape)) throw new GraphError(`constant of shape ${formatShape(shape)} needs ${numel(shape)} values, got ${values.length}`);
    const key = values.length <= 64 ? `${dtype}|${shape.join('x')}|${Array.from(values).join(',')}` : undefined;
    if (key) {
      const hit = this.constCache.get(key);
      if (hit) return hit;
    }
    let data: TensorArray;
    switch (dtype) {
      case 'float32': data = Float32Array.from(values); break;
      case 'float64': data = Float64Array.from(values); break;
      case 'int32': data = Int32Array.from(values); break;
      case 'int64': data = BigInt64Array.from(Array.from(values, (x) => BigInt(x))); break;
      case 'bool': data = Uint8Array.from(values); break;
      case 'bfloat16':
      case 'float16':
        throw new GraphError('half-precision values are base-weight storage only, not constants');
    }
    const v = this.constantValue(`const.${this.graph.newId()}`, shape, dtype, data);
    if (key) this.constCache.set(key, v);
    return v;
  }

  /** A scalar constant (rank 0) in the builder's float type unless told otherwise. */
  scalar(x: number, dtype: DType = this.dtype): Value {
    return this.constant([x], [], dtype);
  }

  /** Marks `v` as a graph output under `name`. */
  output(name: string, v: Value): void {
    if (this.graph.outputs.has(name)) throw new GraphError(`graph output "${name}" is declared twice`);
    this.graph.outputs.set(name, v);
  }

  /** Computes the named outputs only when `flag` (a scalar bool input) is true; see Graph.gate. */
  gateOutputs(flag: Value, names: readonly string[]): void {
    if (flag.source.kind !== 'input' || flag.dtype !== 'bool' || flag.rank !== 0) throw new GraphError(`gate ${flag.describe()} must be a scalar bool graph input`);
    for (const n of names) if (!this.graph.outputs.has(n)) throw new GraphError(`gated output "${n}" is not a graph output`);
    if (this.graph.gate) throw new GraphError('the graph already has gated outputs');
    this.graph.gate = { input: flag, outputs: new Set(names) };
  }

  // ---- ops ------------------------------------------------------------------------------------

  /** Appends one primitive op; its registry entry checks the inputs and gives the result type. */
  apply<K extends OpName>(op: K, inputs: readonly Value[], attrs: OpAttrs[K]): Value {
    const rule = OPS[op];
    let type;
    try {
      type = rule.infer(inputs, attrs);
    } catch (err) {
      const what = err instanceof Error ? err.message : String(err);
      throw new GraphError(`${op} in ${this.currentScope || '(top level)'}: ${what} (inputs: ${inputs.map((i) => i.describe()).join(', ')})`);
    }
    const id = this.graph.newId();
    const name = this.unique(`${this.currentScope || 'graph'}/${op}_${id}`);
    const node = { id, op, inputs: [...inputs], attrs, scope: this.currentScope, ...(this.group !== undefined ? { group: this.group } : {}) } as unknown as Node<K> & { output: Value };
    node.output = new Value(id, name, [...type.shape], type.dtype, { kind: 'node', node: node as unknown as Node });
    this.graph.nodes.push(node as unknown as Node);
    return node.output;
  }

  add(a: Value, b: Value): Value { return this.apply('add', [a, b], {}); }
  sub(a: Value, b: Value): Value { return this.apply('sub', [a, b], {}); }
  mul(a: Value, b: Value): Value { return this.apply('mul', [a, b], {}); }
  div(a: Value, b: Value): Value { return this.apply('div', [a, b], {}); }
  neg(x: Value): Value { return this.apply('neg', [x], {}); }
  exp(x: Value): Value { return this.apply('exp', [x], {}); }
  log(x: Value): Value { return this.apply('log', [x], {}); }
  sqrt(x: Value): Value { return this.apply('sqrt', [x], {}); }
  tanh(x: Value): Value { return this.apply('tanh', [x], {}); }
  sigmoid(x: Value): Value { return this.apply('sigmoid', [x], {}); }
  erf(x: Value): Value { return this.apply('erf', [x], {}); }
  detach(x: Value): Value { return this.apply('detach', [x], {}); }
  softmax(x: Value): Value { return this.apply('softmax', [x], {}); }

  /** a @ b over the last two dims (optionally transposed); batch dims must be equal. */
  matmul(a: Value, b: Value, opts: { transA?: boolean; transB?: boolean } = {}): Value {
    return this.apply('matmul', [a, b], { transA: opts.transA ?? false, transB: opts.transB ?? false });
  }

  reduceSum(x: Value, axes: readonly number[], keepDims = true): Value {
    return this.apply('reduceSum', [x], { axes, keepDims });
  }
  reduceMax(x: Value, axes: readonly number[], keepDims = true): Value {
    return this.apply('reduceMax', [x], { axes, keepDims });
  }
  reshape(x: Value, shape: readonly number[]): Value { return this.apply('reshape', [x], { shape }); }
  transpose(x: Value, perm: readonly number[]): Value { return this.apply('transpose', [x], { perm }); }
  expand(x: Value, shape: readonly number[]): Value { return this.apply('expand', [x], { shape }); }
  slice(x: Value, axis: number, start: number, end: number): Value { return this.apply('slice', [x], { axis, start, end }); }
  concat(xs: readonly Value[], axis: number): Value { return this.apply('concat', xs, { axis }); }
  gather(table: Value, ids: Value): Value { return this.apply('gather', [table, ids], {}); }
  scatterRows(ids: Value, updates: Value, rows: number): Value { return this.apply('scatterRows', [ids, updates], { rows }); }
  gatherLast(x: Value, idx: Value): Value { return this.apply('gatherLast', [x, idx], {}); }
  scatterLast(idx: Value, values: Value, size: number): Value { return this.apply('scatterLast', [idx, values], { size }); }
  cast(x: Value, to: DType): Value { return this.apply('cast', [x], { to }); }
  equal(a: Value, b: Value): Value { return this.apply('equal', [a, b], {}); }
  where(cond: Value, a: Value, b: Value): Value { return this.apply('where', [cond, a, b], {}); }

  /**
   * x @ w (w as stored: a frozen weight may be half precision), in the graph's float type. With
   * half compute on and w in half precision, the product runs in w's dtype on x cast down (on
   * CUDA, cuBLAS accumulates half products in float32) and comes back cast up, so no float copy of
   * w is made; otherwise w is cast to the float type first.
   */
  storedMatmul(x: Value, w: Value, opts: { transB?: boolean } = {}): Value {
    if (!isHalf(w.dtype)) return this.matmul(x, w, opts);
    if (!this.options.halfCompute) return this.matmul(x, this.cast(w, this.dtype), opts);
    return this.cast(this.matmul(this.cast(x, w.dtype), w, opts), this.dtype);
  }

  // ---- small conveniences used everywhere -----------------------------------------------------

  mulScalar(x: Value, s: number): Value {
    return this.mul(x, this.scalar(s, x.dtype));
  }
  addScalar(x: Value, s: number): Value {
    return this.add(x, this.scalar(s, x.dtype));
  }
  /** Mean over `axes` as a sum times 1/n (ReduceMean is not a primitive). */
  reduceMean(x: Value, axes: readonly number[], keepDims = true): Value {
    let n = 1;
    for (const a of axes) n *= x.shape[a < 0 ? a + x.rank : a]!;
    return this.mulScalar(this.reduceSum(x, axes, keepDims), 1 / n);
  }
}
