import { Linear, Module, tf } from '@srdiff/core';
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
      const q = this.splitHeads(this.toQ.forward(x) as tf.Tensor3D);
      const k = this.splitHeads(this.toK.forward(source) as tf.Tensor3D);
      const v = this.splitHeads(this.toV.forward(source) as tf.Tensor3D);
      const scores = tf.mul(tf.matMul(q, k, false, true), this.headDim ** -0.5);
      const out = tf.matMul(tf.softmax(scores), v); // [B, heads, N, d]
      const [b, n] = x.shape;
      const merged = tf.reshape(tf.transpose(out, [0, 2, 1, 3]), [b, n, this.innerDim]);
      return this.outProjection.forward(merged) as tf.Tensor3D;
    });
  }

  /** `[B, N, heads·d]` → `[B, heads, N, d]`. */
  private splitHeads(t: tf.Tensor3D): tf.Tensor4D {
    const [b, n] = t.shape;
    return tf.transpose(tf.reshape(t, [b, n, this.heads, this.headDim]), [0, 2, 1, 3]);
  }
}
