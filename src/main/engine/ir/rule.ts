// What one registry entry holds for a primitive op: its shape/dtype rule, its ONNX emission and
// its gradient rule. OpTable is a mapped type over the op union, so an op added to ops.ts without
// all three is a compile error (tinygrad's one-table style).
import type { AttributeValue } from '../onnx/model-proto';
import type { GraphBuilder } from './builder';
import type { Node, Value } from './graph';
import type { OpAttrs, OpName } from './ops';
import type { DType, Shape } from './types';

export interface InferredType {
  shape: Shape;
  dtype: DType;
}

/** What an emission may do: name temporaries, make int64 constants, append ONNX nodes. */
export interface EmitContext {
  /** ONNX names of the node's inputs, in order. */
  readonly inputs: readonly string[];
  /** ONNX name the node's result must be written to. */
  readonly output: string;
  temp(hint: string): string;
  constI64(values: readonly number[]): string;
  node(opType: string, inputs: readonly string[], outputs: readonly string[], attributes?: Record<string, AttributeValue>): void;
}

/**
 * The vector-Jacobian product: given the gradient `g` of the node's output, the gradients of the
 * inputs flagged in `needs` (undefined for the others). A result may keep the output's broadcast
 * shape: the driver reduces it to the input's shape, in one place.
 */
export type GradRule<K extends OpName> = (
  b: GraphBuilder,
  node: Node<K>,
  g: Value,
  needs: readonly boolean[],
) => readonly (Value | undefined)[];

export interface OpRule<K extends OpName> {
  /** Output shape and dtype; throws a message (without the op name, the caller adds it) when inputs disagree. */
  infer(inputs: readonly Value[], attrs: OpAttrs[K]): InferredType;
  emit(ctx: EmitContext, node: Node<K>): void;
  /** 'none': the output carries no gradient (integer/boolean results, detach). */
  grad: GradRule<K> | 'none';
}

export type OpTable = { readonly [K in OpName]: OpRule<K> };

/** Narrows a table to some ops, for the per-family files. */
export type OpRules<K extends OpName> = { readonly [P in K]: OpRule<P> };
