import { Linear, Module, tf } from '@srdiff/core';
import { batchMatMul, linear } from '../ops/matmul';
import { SparseSequential } from './containers';

/**
 * The original's `CrossAttention` (attention.py): q from x, k and v from the context (x itself
 * when there is none), heads split as `'b n (h d) -> (b h) n d'` (head index slower), softmax of
 * q·kᵀ·d^-0.5 over the context tokens, then `to_out.0` = Linear(inner → query_dim) (`to_out.1` is Dropout(0)).
 */
export class CrossAttention extends Module {
  readonly toQ: Linear;
  readonly toK: Linear;
  readonly toV: Linear;
  readonly outProjection: Linear;
  readonly innerDim: number;
  readonly contextDim: number;

  constructor(readonly queryDim: number, contextDim: number | undefined, readonly heads: number, readonly headDim: number) {
    super();
    this.innerDim = heads * headDim;
    this.contextDim = contextDim ?? queryDim;
    this.toQ = this.addModule('to_q', new Linear(queryDim, this.innerDim, { bias: false }));
    this.toK = this.addModule('to_k', new Linear(this.contextDim, this.innerDim, { bias: false }));
    this.toV = this.addModule('to_v', new Linear(this.contextDim, this.innerDim, { bias: false }));
    this.outProjection = new Linear(this.innerDim, queryDim);
    this.addModule('to_out', new SparseSequential([[0, this.outProjection]]));
  }

  /** `x` `[B, N, query_dim]`, `context` `[B, M, context_dim]` → `[B, N, query_dim]`. */
  forward(x: tf.Tensor3D, context?: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const source = context ?? x;
      const [b, n] = x.shape;
      const m = source.shape[1];
      const { heads, headDim } = this;
      const byHead = (t: tf.Tensor, len: number, perm: number[]) =>
        tf.reshape(tf.transpose(tf.reshape(t, [b, len, heads, headDim]), perm), perm[2] === 1 ? [b * heads, len, headDim] : [b * heads, headDim, len]) as tf.Tensor3D;
      const q = byHead(linear(this.toQ, x), n, [0, 2, 1, 3]); // [B·heads, N, d]
      const kT = byHead(linear(this.toK, source), m, [0, 2, 3, 1]); // [B·heads, d, M]
      const v = byHead(linear(this.toV, source), m, [0, 2, 1, 3]); // [B·heads, M, d]
      const weights = tf.softmax(tf.mul(batchMatMul(q, kT), headDim ** -0.5)) as tf.Tensor3D;
      const out = tf.transpose(tf.reshape(batchMatMul(weights, v), [b, heads, n, headDim]), [0, 2, 1, 3]);
      return linear(this.outProjection, tf.reshape(out, [b, n, this.innerDim])) as tf.Tensor3D;
    });
  }
}
