import { Linear, Module, tf } from '@srdiff/core';
import { groupedAttention } from '../ops/attention';
import { linear, linearWith } from '../ops/matmul';
import { splitRows } from '../ops/split-rows';
import { SparseSequential } from './containers';

/** 0·Σ(tensors): keeps parameters that provably do not affect a result in the graph with an exactly zero gradient. */
export function zeroDependency(tensors: tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => tf.mul(tf.addN(tensors.map((t) => tf.sum(t))), 0) as tf.Scalar);
}

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
      const [b, n] = x.shape;
      const { heads, headDim } = this;
      // Projections in head-major groups [heads·B, tokens, d] (group = head·B + batch).
      let q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D;
      if (!context) {
        // Self-attention: one product for q, k and v.
        const qkv = linearWith(x, tf.concat([this.toQ.weight, this.toK.weight, this.toV.weight], 0) as tf.Tensor2D);
        [q, k, v] = splitRows(this.headMajor(qkv, 3, n), 3).map((t) => tf.reshape(t, [heads * b, n, headDim]) as tf.Tensor3D) as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
      } else {
        const m = context.shape[1];
        q = tf.reshape(this.headMajor(linear(this.toQ, x), 1, n), [heads * b, n, headDim]) as tf.Tensor3D;
        const kv = linearWith(context, tf.concat([this.toK.weight, this.toV.weight], 0) as tf.Tensor2D);
        [k, v] = splitRows(this.headMajor(kv, 2, m), 2).map((t) => tf.reshape(t, [heads * b, m, headDim]) as tf.Tensor3D) as [tf.Tensor3D, tf.Tensor3D];
      }
      const out = groupedAttention(q, k, v, headDim ** -0.5); // [heads·B, N, d]
      const merged = tf.transpose(tf.reshape(out, [heads, b, n, headDim]), [1, 2, 0, 3]); // 'b n (h d)'
      return linear(this.outProjection, tf.reshape(merged, [b, n, this.innerDim])) as tf.Tensor3D;
    });
  }

  /** `[B, L, parts·heads·d]` (channels: part, head, d) → `[parts·heads·B·L, d]`, rows ordered (part, head, batch, token). */
  private headMajor(t: tf.Tensor, parts: number, len: number): tf.Tensor2D {
    const b = t.shape[0]!;
    const grouped = tf.transpose(tf.reshape(t, [b, len, parts * this.heads, this.headDim]), [2, 0, 1, 3]);
    return tf.reshape(grouped, [parts * this.heads * b * len, this.headDim]) as tf.Tensor2D;
  }

  /**
   * The attention to a single context token (SR-Diff's one semantic vector per image): the softmax
   * over one key is exactly 1, so the output is `to_out(to_v(context))` at every position — what the
   * original computes, without its q·kᵀ. Returns `[B, 1, query_dim]` (broadcasts over N). to_q and
   * to_k stay in the graph with exactly zero gradient, as in the original.
   */
  forwardSingleToken(context: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const out = linear(this.outProjection, linear(this.toV, context)) as tf.Tensor3D;
      return tf.add(out, zeroDependency([this.toQ.weight, this.toK.weight])) as tf.Tensor3D;
    });
  }
}
