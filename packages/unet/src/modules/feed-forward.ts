import { gelu, Linear, Module, tf } from '@srdiff/core';
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
      const [a, gate] = tf.split(this.proj.forward(x), 2, -1);
      return tf.mul(a!, gelu(gate!)) as tf.Tensor3D;
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
    return tf.tidy(() => this.output.forward(this.geglu.forward(x)) as tf.Tensor3D);
  }
}
