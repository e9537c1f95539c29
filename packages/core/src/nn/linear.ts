import * as tf from '@tensorflow/tfjs-core';
import { defaultBound, uniformInit } from './init';
import { Module } from './module';

export interface LinearOptions {
  bias?: boolean;
}

/**
 * `torch.nn.Linear`: y = x·Wᵀ + b over the last axis. The weight stays in PyTorch's `[out, in]`
 * layout (the matMul transposes it), so state dicts need no conversion.
 */
export class Linear extends Module {
  readonly weight: tf.Variable;
  readonly bias?: tf.Variable;

  constructor(readonly inFeatures: number, readonly outFeatures: number, options: LinearOptions = {}) {
    super();
    const bound = defaultBound(inFeatures);
    this.weight = this.addParameter('weight', uniformInit([outFeatures, inFeatures], bound));
    if (options.bias ?? true) this.bias = this.addParameter('bias', uniformInit([outFeatures], bound));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const inner = x.shape[x.rank - 1];
      if (inner !== this.inFeatures) {
        throw new Error(`Linear(${this.inFeatures} → ${this.outFeatures}): input's last axis is ${inner}, expected ${this.inFeatures}`);
      }
      const flat = tf.reshape(x, [-1, this.inFeatures]) as tf.Tensor2D;
      let y: tf.Tensor = tf.matMul(flat, this.weight as tf.Tensor2D, false, true);
      if (this.bias) y = tf.add(y, this.bias);
      return tf.reshape(y, [...x.shape.slice(0, -1), this.outFeatures]);
    });
  }
}
