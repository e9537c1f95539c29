import * as tf from '@tensorflow/tfjs-core';
import { linear } from '../ops/linear';
import { defaultBound, uniformInit } from './init';
import { Module } from './module';

export interface LinearOptions {
  bias?: boolean;
}

/**
 * `torch.nn.Linear`: y = x·Wᵀ + b over the last axis. The weight stays in PyTorch's `[out, in]`
 * layout, so state dicts need no conversion; the product is core's wasm-friendly `linear` op.
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
    if (x.shape[x.rank - 1] !== this.inFeatures) {
      throw new Error(`Linear(${this.inFeatures} → ${this.outFeatures}): input's last axis is ${x.shape[x.rank - 1]}, expected ${this.inFeatures}`);
    }
    return linear(x, this.weight, this.bias);
  }
}
