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

/** Nearest-neighbour ×`factor` upsampling of NHWC, as `nn.Upsample(scale_factor, mode='nearest')`. */
export function upsampleNearest(x: tf.Tensor4D, factor = 2): tf.Tensor4D {
  const [, h, w] = x.shape;
  return tf.image.resizeNearestNeighbor(x, [h * factor, w * factor], false, false);
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
