import { Linear, Module, silu, tf } from '@srdiff/core';

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
    return tf.tidy(() => this.linear2.forward(silu(this.linear1.forward(x))) as tf.Tensor2D);
  }
}
