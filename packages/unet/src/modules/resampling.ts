import { Conv2d, Module, tf } from '@srdiff/core';
import { upsample2x } from '../ops/upsample';

/** The original's `Downsample(dim_in, dim_out)`: Conv2d 4×4, stride 2, padding 1, with bias. */
export function downsample(dimIn: number, dimOut: number): Conv2d {
  return new Conv2d(dimIn, dimOut, 4, { stride: 2, padding: 1 });
}

/** The original's `Upsample(dim, dim_out)` = `Sequential(nn.Upsample(×2, nearest), Conv2d(dim, dim_out, 3, 1, 1))`. */
export class Upsample extends Module {
  readonly conv: Conv2d;

  constructor(dimIn: number, dimOut: number) {
    super();
    // Index 0 is the parameter-free nn.Upsample; the conv keeps its key `….1.weight`.
    this.conv = this.addModule('1', new Conv2d(dimIn, dimOut, 3, { padding: 1 }));
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.conv.forward(upsample2x(x)));
  }
}
