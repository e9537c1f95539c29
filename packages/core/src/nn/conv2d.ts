import * as tf from '@tensorflow/tfjs-core';
import { conv2d } from '../ops/conv2d';
import { defaultBound, uniformInit } from './init';
import { Module } from './module';

export interface Conv2dLayerOptions {
  stride?: number;
  /** Symmetric zero padding (PyTorch's `padding`). Default 0. */
  padding?: number;
  bias?: boolean;
}

/**
 * `torch.nn.Conv2d` on NHWC tensors. The weight is held as tfjs's `[kh, kw, in, out]` filter and
 * converted to and from PyTorch's `[out, in, kh, kw]` by the state dict. Gradients come from the
 * matrix-product formulation in `ops/conv2d`, which trains on the wasm and cpu backends.
 */
export class Conv2d extends Module {
  readonly weight: tf.Variable;
  readonly bias?: tf.Variable;
  readonly stride: number;
  readonly padding: number;

  constructor(readonly inChannels: number, readonly outChannels: number, readonly kernelSize: number, options: Conv2dLayerOptions = {}) {
    super();
    this.stride = options.stride ?? 1;
    this.padding = options.padding ?? 0;
    const bound = defaultBound(inChannels * kernelSize * kernelSize);
    this.weight = this.addParameter('weight', uniformInit([kernelSize, kernelSize, inChannels, outChannels], bound), 'conv');
    if (options.bias ?? true) this.bias = this.addParameter('bias', uniformInit([outChannels], bound));
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    if (x.shape[3] !== this.inChannels) {
      throw new Error(`Conv2d(${this.inChannels} → ${this.outChannels}): input has ${x.shape[3]} channels (NHWC), expected ${this.inChannels}`);
    }
    return tf.tidy(() => {
      const y = conv2d(x, this.weight as tf.Tensor4D, { stride: this.stride, padding: this.padding });
      return this.bias ? tf.add(y, this.bias) : y;
    });
  }
}
