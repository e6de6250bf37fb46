// The op table: one entry per primitive op with its shape rule, ONNX emission and gradient rule.
// Typed as OpTable (a mapped type over the op union), so an op without an entry does not compile.
import { elementwiseOps } from './ops-elementwise';
import { indexOps } from './ops-index';
import { layoutOps } from './ops-layout';
import { linalgOps } from './ops-linalg';
import type { OpTable } from './rule';

export const OPS: OpTable = {
  ...elementwiseOps,
  ...linalgOps,
  ...layoutOps,
  ...indexOps,
};
