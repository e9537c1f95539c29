import * as tf from '@tensorflow/tfjs-core';
import { Module } from './module';
import { layerNormLastAxis } from '../ops/layer-norm';

/**
 * `torch.nn.GroupNorm` on NHWC tensors: statistics over (H, W, channels of the group), biased
 * variance, per-channel affine.
 */
export class GroupNorm extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(readonly numGroups: number, readonly numChannels: number, readonly eps = 1e-5) {
    super();
    if (numChannels % numGroups !== 0) {
      throw new Error(`GroupNorm: ${numChannels} channels cannot be split into ${numGroups} groups`);
    }
    this.weight = this.addParameter('weight', tf.ones([numChannels]));
    this.bias = this.addParameter('bias', tf.zeros([numChannels]));
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const [n, h, w, c] = x.shape;
      if (c !== this.numChannels) throw new Error(`GroupNorm(${this.numGroups}, ${this.numChannels}): input has ${c} channels`);
      const g = tf.reshape(x, [n, h * w, this.numGroups, c / this.numGroups]);
      const { mean, variance } = tf.moments(g, [1, 3], true);
      const normed = tf.reshape(tf.mul(tf.sub(g, mean), tf.rsqrt(tf.add(variance, this.eps))), [n, h, w, c]);
      return tf.add(tf.mul(normed, this.weight), this.bias) as tf.Tensor4D;
    });
  }
}

/** `torch.nn.LayerNorm(dim)`: normalisation over the last axis with weight and bias (closed-form gradient, ops/layer-norm.ts). */
export class LayerNorm extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(readonly dim: number, readonly eps = 1e-5) {
    super();
    this.weight = this.addParameter('weight', tf.ones([dim]));
    this.bias = this.addParameter('bias', tf.zeros([dim]));
  }

  forward<T extends tf.Tensor>(x: T): T {
    return layerNormLastAxis(x, this.weight, this.bias, this.eps);
  }
}

/**
 * The channel LayerNorm of the original UNet (`module_util.LayerNorm`): normalises each pixel over
 * its channels (dim 1 in NCHW = the last axis here), biased variance, a gain `g` of PyTorch shape
 * `[1, C, 1, 1]` and no bias. eps is 1e-5, the value the original uses for float32.
 */
export class ChannelLayerNorm extends Module {
  readonly g: tf.Variable;

  constructor(readonly channels: number, readonly eps = 1e-5) {
    super();
    this.g = this.addParameter('g', tf.ones([1, channels, 1, 1]));
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => layerNormLastAxis(x, tf.reshape(this.g, [this.channels]), undefined, this.eps));
  }
}
