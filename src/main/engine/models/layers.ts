// The building blocks every decoder shares: Linear (weights in the Hugging Face layout [out, in],
// emitted as Gemm with transB so no transposed copy of a weight exists), RMSNorm, Embedding. Each
// module names its parameters under its own scope, so full names equal checkpoint keys.
import type { GraphBuilder } from '../ir/builder';
import { rmsNorm } from '../ir/composite';
import type { Value } from '../ir/graph';
import { isHalf, numel, type Shape } from '../ir/types';

/** What a linear layer looks like from outside (plain or wrapped in LoRA). */
export interface LinearLike {
  readonly name: string;
  forward(b: GraphBuilder, x: Value): Value;
}

export class Linear implements LinearLike {
  constructor(
    readonly name: string,
    readonly inFeatures: number,
    readonly outFeatures: number,
    readonly bias = false,
  ) {}

  forward(b: GraphBuilder, x: Value): Value {
    return b.scope(this.name, () => {
      const W = b.storedParam('weight', [this.outFeatures, this.inFeatures]);
      const lead = x.shape.slice(0, -1);
      const x2 = b.reshape(x, [numel(lead), this.inFeatures]); // [N, in]
      let y = b.storedMatmul(x2, W, { transB: true }); // [N, out]
      if (this.bias) y = b.add(y, b.param('bias', [this.outFeatures]));
      return b.reshape(y, [...lead, this.outFeatures]); // [..., out]
    });
  }
}

export class RMSNorm {
  constructor(
    readonly name: string,
    readonly dim: number,
    readonly eps: number,
  ) {}

  forward(b: GraphBuilder, x: Value): Value {
    return b.scope(this.name, () => rmsNorm(b, x, b.param('weight', [this.dim]), this.eps));
  }
}

export class Embedding {
  constructor(
    readonly name: string,
    readonly vocab: number,
    readonly dim: number,
  ) {}

  forward(b: GraphBuilder, ids: Value): Value {
    return b.scope(this.name, () => gatherRows(b, 'weight', [this.vocab, this.dim], ids)); // [B, T, C]
  }
}

/**
 * Rows of the table parameter `local` by id, in the graph's float type: a half-precision table is
 * gathered as stored and only the rows are cast.
 */
export function gatherRows(b: GraphBuilder, local: string, shape: Shape, ids: Value): Value {
  const rows = b.gather(b.storedParam(local, shape), ids);
  return isHalf(rows.dtype) ? b.cast(rows, b.dtype) : rows;
}
