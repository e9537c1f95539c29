import * as tf from '@tensorflow/tfjs-core';

const SQRT1_2 = Math.SQRT1_2;

/** Exact GELU, `0.5·x·(1 + erf(x/√2))` (PyTorch's default `nn.GELU()` / `F.gelu`). */
export function gelu<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, SQRT1_2)), 1)) as T);
}

/** SiLU (swish), `x·sigmoid(x)`. */
export function silu<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => tf.mul(x, tf.sigmoid(x)) as T);
}

/**
 * Nearest-neighbour ×`factor` upsampling of NHWC, as `nn.Upsample(scale_factor, mode='nearest')`.
 * The gradient is the sum over each factor×factor output block, computed here: tfjs-backend-cpu
 * 4.22's ResizeNearestNeighborGrad is wrong for batches > 1 (off by 5 at [2, 3, 5, 2]).
 */
export function upsampleNearest(x: tf.Tensor4D, factor = 2): tf.Tensor4D {
  if (!Number.isInteger(factor) || factor < 1) throw new Error(`upsampleNearest: factor must be a positive integer, got ${factor}`);
  let op = upsamplers.get(factor);
  if (!op) upsamplers.set(factor, (op = makeUpsampler(factor)));
  return op(x) as tf.Tensor4D;
}

const upsamplers = new Map<number, (x: tf.Tensor) => tf.Tensor>();

function makeUpsampler(factor: number) {
  return tf.customGrad((x) => {
    const input = x as tf.Tensor4D;
    const [b, h, w, c] = input.shape;
    return {
      value: tf.image.resizeNearestNeighbor(input, [h * factor, w * factor], false, false),
      gradFunc: (dy: tf.Tensor) => {
        // dy [B, fH, fW, C]: sum the f output rows of each input row, then the f columns.
        const rows = tf.sum(tf.reshape(dy, [b * h, factor, factor * w * c]), 1);
        return tf.reshape(tf.sum(tf.reshape(rows, [b * h * w, factor, c]), 1), [b, h, w, c]);
      },
    };
  });
}

/**
 * Reflect padding of NHWC at the bottom and right (`F.pad(x, (0, right, 0, bottom), 'reflect')`),
 * or on all four sides when given. Reflection needs each pad to be smaller than the padded size.
 */
export function reflectPad(x: tf.Tensor4D, pad: { top?: number; bottom?: number; left?: number; right?: number }): tf.Tensor4D {
  const { top = 0, bottom = 0, left = 0, right = 0 } = pad;
  const [, h, w] = x.shape;
  if (Math.max(top, bottom) >= h || Math.max(left, right) >= w) {
    throw new Error(`reflectPad: padding (${top}, ${bottom}, ${left}, ${right}) must be smaller than the ${h}×${w} input`);
  }
  if (!top && !bottom && !left && !right) return x.clone();
  return tf.mirrorPad(x, [[0, 0], [top, bottom], [left, right], [0, 0]], 'reflect');
}
