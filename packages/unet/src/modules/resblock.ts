import { Conv2d, Linear, Module, tf } from '@srdiff/core';
import { convParts } from '../ops/conv-parts';
import { linear } from '../ops/matmul';
import { modulatedSilu, silu } from '../ops/silu';
import { SparseSequential } from './containers';

/** The original's `default_conv`: k×k, padding k//2, no bias. */
export function defaultConv(dimIn: number, dimOut: number, kernelSize = 3): Conv2d {
  return new Conv2d(dimIn, dimOut, kernelSize, { padding: Math.floor(kernelSize / 2), bias: false });
}

/** `Block`: conv 3×3 (no bias) → optional scale-shift → SiLU. */
export class Block extends Module {
  readonly proj: Conv2d;

  constructor(dimIn: number, dimOut: number) {
    super();
    this.proj = this.addModule('proj', defaultConv(dimIn, dimOut));
  }

  /**
   * `parts`: the input, or the pieces of its channel concatenation (skip connections).
   * `scale`, `shift`: `[B or 1, 1, 1, C]`, applied as x·(scale + 1) + shift before the activation.
   */
  forward(parts: tf.Tensor4D | readonly tf.Tensor4D[], scaleShift?: [tf.Tensor, tf.Tensor]): tf.Tensor4D {
    return tf.tidy(() => {
      const h = convParts(this.proj, Array.isArray(parts) ? parts : [parts as tf.Tensor4D]);
      return scaleShift ? modulatedSilu(h, scaleShift[0], scaleShift[1]) : silu(h);
    });
  }
}

/**
 * The original's `ResBlock` (module_util.py): `(scale, shift) = Linear(SiLU(t_emb)).chunk(2)`,
 * `h = SiLU(conv1(x)·(scale + 1) + shift)`, `h = SiLU(conv2(h))`, output `h + res_conv(x)`
 * (1×1 conv without bias when the widths differ, identity otherwise).
 */
export class ResBlock extends Module {
  /** `mlp.1`: Linear(time_dim → 2·dim_out), applied after SiLU (`mlp.0`). */
  readonly timeProjection: Linear;
  readonly block1: Block;
  readonly block2: Block;
  readonly resConv?: Conv2d;

  constructor(readonly dimIn: number, readonly dimOut: number, timeDim: number) {
    super();
    this.timeProjection = new Linear(timeDim, 2 * dimOut);
    this.addModule('mlp', new SparseSequential([[1, this.timeProjection]]));
    this.block1 = this.addModule('block1', new Block(dimIn, dimOut));
    this.block2 = this.addModule('block2', new Block(dimOut, dimOut));
    if (dimIn !== dimOut) this.resConv = this.addModule('res_conv', defaultConv(dimIn, dimOut, 1));
  }

  /**
   * `x` NHWC `[B, H, W, dim_in]` — or the parts whose channel concatenation it is (the decoder's
   * `cat([x, skip])`, never materialised); `timeEmb` `[B or 1, time_dim]`.
   */
  forward(x: tf.Tensor4D | readonly tf.Tensor4D[], timeEmb: tf.Tensor2D): tf.Tensor4D {
    const parts = Array.isArray(x) ? (x as readonly tf.Tensor4D[]) : [x as tf.Tensor4D];
    return tf.tidy(() => {
      const batch = timeEmb.shape[0];
      const modulation = tf.reshape(linear(this.timeProjection, silu(timeEmb)), [batch, 1, 1, 2 * this.dimOut]);
      // chunk(2, dim=1): the first half scales, the second shifts.
      const [scale, shift] = tf.split(modulation, 2, 3) as [tf.Tensor, tf.Tensor];
      const h = this.block2.forward(this.block1.forward(parts, [scale, shift]));
      if (this.resConv) return tf.add(h, convParts(this.resConv, parts)) as tf.Tensor4D;
      if (parts.length !== 1) throw new Error(`ResBlock(${this.dimIn} → ${this.dimOut}): identity shortcut needs one input, got ${parts.length} parts`);
      return tf.add(h, parts[0]!) as tf.Tensor4D;
    });
  }
}
