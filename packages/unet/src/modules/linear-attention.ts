import { ChannelLayerNorm, Conv2d, Module, tf } from '@srdiff/core';
import { HEAD_CHANNELS, LINEAR_ATTENTION_HEADS } from '../config';
import { SparseSequential } from './containers';

/**
 * The original's `LinearAttention` (module_util.py; 4 heads × 32 channels whatever the width):
 * `q | k | v = to_qkv(x).chunk(3)`, heads split as `(h c)` (head index slower); q softmax over its
 * 32 channels, k softmax over the positions, q ·= 32^-0.5, v /= H·W;
 * context[d, e] = Σ_n k[d, n]·v[e, n], out[e, n] = Σ_d context[d, e]·q[d, n];
 * then `to_out` = 1×1 conv (bias) → channel LayerNorm. Cost linear in H·W.
 */
export class LinearAttention extends Module {
  readonly toQkv: Conv2d;
  readonly outConv: Conv2d;
  readonly outNorm: ChannelLayerNorm;
  readonly heads = LINEAR_ATTENTION_HEADS;
  readonly headDim = HEAD_CHANNELS;

  constructor(readonly dim: number) {
    super();
    const hidden = this.heads * this.headDim;
    this.toQkv = this.addModule('to_qkv', new Conv2d(dim, 3 * hidden, 1, { bias: false }));
    this.outConv = new Conv2d(hidden, dim, 1);
    this.outNorm = new ChannelLayerNorm(dim);
    this.addModule('to_out', new SparseSequential([[0, this.outConv], [1, this.outNorm]]));
  }

  /** NHWC `[B, H, W, dim]` → same shape. The context argument of the original is ignored here too. */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const [b, h, w] = x.shape;
      const n = h * w;
      const { heads, headDim } = this;
      const qkv = tf.reshape(this.toQkv.forward(x), [b, n, 3 * heads, headDim]);
      const [q, k, v] = tf.split(qkv, 3, 2) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
      // [B, heads, N, 32] for q and v; [B, heads, 32, N] for k so both products are plain matMuls.
      const qh = tf.mul(tf.softmax(tf.transpose(q, [0, 2, 1, 3])), headDim ** -0.5);
      const kh = tf.softmax(tf.transpose(k, [0, 2, 3, 1]));
      const vh = tf.div(tf.transpose(v, [0, 2, 1, 3]), n);
      const context = tf.matMul(kh, vh); // [B, heads, d, e]
      const out = tf.matMul(qh, context); // [B, heads, N, e] = (context^T q)^T
      const merged = tf.reshape(tf.transpose(out, [0, 2, 1, 3]), [b, h, w, heads * headDim]);
      return this.outNorm.forward(this.outConv.forward(merged as tf.Tensor4D));
    });
  }
}
