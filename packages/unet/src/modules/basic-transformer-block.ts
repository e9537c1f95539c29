import { LayerNorm, Module, tf } from '@srdiff/core';
import { LAYER_NORM_EPS } from '../config';
import { CrossAttention, zeroDependency } from './cross-attention';
import { FeedForward } from './feed-forward';

/**
 * The original's `BasicTransformerBlock` (attention.py): pre-LayerNorm residual sub-layers
 * `x += attn1(norm1 x)` (self-attention), `x += attn2(norm2 x, context)`, `x += ff(norm3 x)`.
 * (The original recomputes it in backward to save memory; the gradients are the plain ones.)
 */
export class BasicTransformerBlock extends Module {
  readonly attn1: CrossAttention;
  readonly ff: FeedForward;
  readonly attn2: CrossAttention;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly norm3: LayerNorm;

  constructor(dim: number, heads: number, headDim: number, contextDim: number) {
    super();
    // Registration order is the original's (state-dict order): attn1, ff, attn2, norm1..3.
    this.attn1 = this.addModule('attn1', new CrossAttention(dim, undefined, heads, headDim));
    this.ff = this.addModule('ff', new FeedForward(dim));
    this.attn2 = this.addModule('attn2', new CrossAttention(dim, contextDim, heads, headDim));
    this.norm1 = this.addModule('norm1', new LayerNorm(dim, LAYER_NORM_EPS));
    this.norm2 = this.addModule('norm2', new LayerNorm(dim, LAYER_NORM_EPS));
    this.norm3 = this.addModule('norm3', new LayerNorm(dim, LAYER_NORM_EPS));
  }

  /** `x` `[B, N, dim]`; `context` `[B, M, context_dim]` (without one, attn2 is a second self-attention). */
  forward(x: tf.Tensor3D, context?: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      let h = tf.add(this.attn1.forward(this.norm1.forward(x)), x) as tf.Tensor3D;
      if (context && context.shape[1] === 1) {
        // One context token: attn2's output does not depend on its query, so norm2 (which only
        // feeds the query) gets exactly zero gradient in the original too.
        const single = tf.add(this.attn2.forwardSingleToken(context), zeroDependency([this.norm2.weight, this.norm2.bias]));
        h = tf.add(single, h) as tf.Tensor3D;
      } else {
        h = tf.add(this.attn2.forward(this.norm2.forward(h), context), h) as tf.Tensor3D;
      }
      return tf.add(this.ff.forward(this.norm3.forward(h)), h) as tf.Tensor3D;
    });
  }
}
