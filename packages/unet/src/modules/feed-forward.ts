import { gelu, Linear, Module, tf } from '@srdiff/core';
import { linear, linearWith } from '../ops/matmul';
import { SparseSequential } from './containers';

/** `GEGLU(dim_in, dim_out)`: `a, gate = Linear(dim_in → 2·dim_out)(x).chunk(2)`, output `a·gelu(gate)` (exact GELU). */
export class GEGLU extends Module {
  readonly proj: Linear;

  constructor(dimIn: number, readonly dimOut: number) {
    super();
    this.proj = this.addModule('proj', new Linear(dimIn, 2 * dimOut));
  }

  forward(x: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      // Two products with the halves of the weight rather than splitting the product's output
      // (a channel split is a per-row JavaScript copy on wasm).
      const { weight, bias } = this.proj;
      const half = (i: number) =>
        linearWith(x, tf.slice(weight, [i * this.dimOut, 0], [this.dimOut, -1]) as tf.Tensor2D, tf.slice(bias!, [i * this.dimOut], [this.dimOut]) as tf.Tensor1D);
      return tf.mul(half(0), gelu(half(1))) as tf.Tensor3D;
    });
  }
}

/**
 * The transformer's `FeedForward(dim, glu=True)` (mult 4): `net = Sequential(GEGLU(dim, 4·dim),
 * Dropout(0), Linear(4·dim, dim))`.
 */
export class FeedForward extends Module {
  readonly geglu: GEGLU;
  readonly output: Linear;

  constructor(readonly dim: number, mult = 4) {
    super();
    const inner = dim * mult;
    this.geglu = new GEGLU(dim, inner);
    this.output = new Linear(inner, dim);
    this.addModule('net', new SparseSequential([[0, this.geglu], [2, this.output]]));
  }

  forward(x: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => linear(this.output, this.geglu.forward(x)));
  }
}
