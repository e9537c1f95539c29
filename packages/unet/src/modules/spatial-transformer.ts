import { Conv2d, GroupNorm, Module, tf } from '@srdiff/core';
import { GROUP_NORM_EPS, GROUP_NORM_GROUPS, HEAD_CHANNELS } from '../config';
import { BasicTransformerBlock } from './basic-transformer-block';
import { ModuleList } from './containers';

/**
 * The original's `SpatialTransformer` (attention.py) with depth 1: GroupNorm(32, eps 1e-6) →
 * 1×1 conv to d = heads·32 → tokens `[B, H·W, d]` → BasicTransformerBlock (cross-attention to the
 * context) → 1×1 conv back (zero-initialised, as the original's `zero_module`) → + its input.
 */
export class SpatialTransformer extends Module {
  readonly norm: GroupNorm;
  readonly projIn: Conv2d;
  readonly block: BasicTransformerBlock;
  readonly projOut: Conv2d;
  readonly heads: number;
  readonly innerDim: number;

  constructor(readonly channels: number, readonly contextDim: number) {
    super();
    this.heads = Math.floor(channels / HEAD_CHANNELS);
    this.innerDim = this.heads * HEAD_CHANNELS;
    this.norm = this.addModule('norm', new GroupNorm(GROUP_NORM_GROUPS, channels, GROUP_NORM_EPS));
    this.projIn = this.addModule('proj_in', new Conv2d(channels, this.innerDim, 1));
    this.block = new BasicTransformerBlock(this.innerDim, this.heads, HEAD_CHANNELS, contextDim);
    this.addModule('transformer_blocks', new ModuleList([this.block]));
    this.projOut = this.addModule('proj_out', new Conv2d(this.innerDim, channels, 1));
    tf.tidy(() => {
      this.projOut.weight.assign(tf.zerosLike(this.projOut.weight));
      this.projOut.bias!.assign(tf.zerosLike(this.projOut.bias!));
    });
  }

  /** NHWC `[B, H, W, C]`, `context` `[B, M, context_dim]` → same shape as x. */
  forward(x: tf.Tensor4D, context?: tf.Tensor3D): tf.Tensor4D {
    return tf.tidy(() => {
      const [b, h, w] = x.shape;
      // NHWC flattens to 'b (h w) c' directly: no transpose needed.
      const tokens = tf.reshape(this.projIn.forward(this.norm.forward(x)), [b, h * w, this.innerDim]) as tf.Tensor3D;
      const mixed = tf.reshape(this.block.forward(tokens, context), [b, h, w, this.innerDim]) as tf.Tensor4D;
      return tf.add(this.projOut.forward(mixed), x) as tf.Tensor4D;
    });
  }
}
