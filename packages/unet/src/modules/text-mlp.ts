import { Linear, Module, silu, tf } from '@srdiff/core';
import { linear } from '../ops/matmul';

/** `text_mlp = Sequential(Linear(context_dim, time_dim), SiLU(), Linear(time_dim, time_dim))` of the prompt path. */
export class TextMlp extends Module {
  readonly linear1: Linear;
  readonly linear2: Linear;

  constructor(contextDim: number, timeDim: number) {
    super();
    this.linear1 = this.addModule('0', new Linear(contextDim, timeDim));
    this.linear2 = this.addModule('2', new Linear(timeDim, timeDim));
  }

  forward(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => linear(this.linear2, silu(linear(this.linear1, x))) as tf.Tensor2D);
  }
}
