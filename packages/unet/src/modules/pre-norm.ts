import { ChannelLayerNorm, Module, tf } from '@srdiff/core';
import { CHANNEL_LAYER_NORM_EPS } from '../config';

/** An attention block of the UNet: NHWC in and out, with an optional context `[B, M, context_dim]`. */
export interface ContextAttention extends Module {
  forward(x: tf.Tensor4D, context?: tf.Tensor3D): tf.Tensor4D;
}

/** `PreNorm(dim, fn)`: fn(channel LayerNorm(x)). Children in the original's order: `fn`, then `norm`. */
export class PreNorm extends Module {
  readonly fn: ContextAttention;
  readonly norm: ChannelLayerNorm;

  constructor(dim: number, fn: ContextAttention) {
    super();
    this.fn = this.addModule('fn', fn);
    this.norm = this.addModule('norm', new ChannelLayerNorm(dim, CHANNEL_LAYER_NORM_EPS));
  }

  forward(x: tf.Tensor4D, context?: tf.Tensor3D): tf.Tensor4D {
    return tf.tidy(() => this.fn.forward(this.norm.forward(x), context));
  }
}

/**
 * `Residual(PreNorm(dim, attention))`: x + attention(LN(x)). With a SpatialTransformer, which adds
 * its own input too, the result is `proj_out(…) + LN(x) + x`, as in the original.
 */
export class Residual extends Module {
  readonly fn: PreNorm;

  constructor(fn: PreNorm) {
    super();
    this.fn = this.addModule('fn', fn);
  }

  /** The wrapped attention (the `fn.fn` of the state-dict keys). */
  get attention(): ContextAttention {
    return this.fn.fn;
  }

  forward(x: tf.Tensor4D, context?: tf.Tensor3D): tf.Tensor4D {
    return tf.tidy(() => tf.add(this.fn.forward(x, context), x) as tf.Tensor4D);
  }
}
