import { gelu, Linear, Module, tf } from '@srdiff/core';
import type { ActivationTrace } from '../trace';
import { linear } from '../ops/matmul';
import { sinusoidalPosEmb } from './sinusoidal-pos-emb';

/**
 * `time_mlp = Sequential(SinusoidalPosEmb(nf), Linear(nf, 4nf), GELU(), Linear(4nf, 4nf))`:
 * the time embedding every ResBlock receives. Only indices 1 and 3 hold parameters.
 */
export class TimeMlp extends Module {
  readonly linear1: Linear;
  readonly linear2: Linear;

  constructor(readonly nf: number, readonly timeDim: number) {
    super();
    this.linear1 = this.addModule('1', new Linear(nf, timeDim));
    this.linear2 = this.addModule('3', new Linear(timeDim, timeDim));
  }

  /** `time` `[B]` (floats allowed) → `[B, 4nf]`. */
  forward(time: tf.Tensor1D, trace?: ActivationTrace): tf.Tensor2D {
    return tf.tidy(() => {
      const emb = sinusoidalPosEmb(time, this.nf);
      trace?.('time_mlp.0.out', emb);
      return linear(this.linear2, gelu(linear(this.linear1, emb))) as tf.Tensor2D;
    });
  }
}
