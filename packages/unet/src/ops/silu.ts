import { tf } from '@srdiff/core';

/*
 * SiLU, optionally after the ResBlock's scale-shift, with hand-written gradients: tfjs
 * differentiates x·sigmoid(x) and the broadcast multiply-add op by op (about a dozen passes over the
 * activation and a sum per broadcast input); the closed forms below take about half.
 * silu'(z) = s·(1 + z·(1 - s)) with s = sigmoid(z).
 */

const siluOp = tf.customGrad((x, save) => {
  const z = x as tf.Tensor;
  const s = tf.sigmoid(z);
  (save as tf.GradSaveFunc)([z, s]);
  return {
    value: tf.mul(z, s),
    gradFunc: (dy: tf.Tensor, [sz, ss]: tf.Tensor[]) => tf.mul(dy, siluDerivative(sz!, ss!)),
  };
});

function siluDerivative(z: tf.Tensor, s: tf.Tensor): tf.Tensor {
  return tf.mul(s, tf.add(tf.mul(z, tf.sub(1, s)), 1));
}

/** SiLU (`x·sigmoid(x)`, the original's `NonLinearity`). */
export function silu<T extends tf.Tensor>(x: T): T {
  return siluOp(x) as T;
}

/** sum over every axis but the last, kept as `[1 or B, 1, 1, C]`-shaped like `like`. */
function reduceTo(t: tf.Tensor, like: tf.Tensor): tf.Tensor {
  const [b, , , c] = t.shape as [number, number, number, number];
  if (like.shape[0] === b) return tf.reshape(tf.sum(tf.reshape(t, [b, -1, c]), 1), like.shape);
  return tf.reshape(tf.sum(tf.reshape(t, [-1, c]), 0), like.shape);
}

const modulatedSiluOp = tf.customGrad((h, scale, shift, save) => {
  const x = h as tf.Tensor4D;
  const a = tf.add(scale as tf.Tensor, 1);
  const z = tf.add(tf.mul(x, a), shift as tf.Tensor);
  const s = tf.sigmoid(z);
  (save as tf.GradSaveFunc)([x, a, z, s, shift as tf.Tensor]);
  return {
    value: tf.mul(z, s),
    gradFunc: (dy: tf.Tensor, [sx, sa, sz, ss, sshift]: tf.Tensor[]) => {
      const dz = tf.mul(dy, siluDerivative(sz!, ss!));
      return [tf.mul(dz, sa!), reduceTo(tf.mul(dz, sx!), sa!), reduceTo(dz, sshift!)];
    },
  };
});

/** The ResBlock's `SiLU(h·(scale + 1) + shift)`; `scale`, `shift` `[B or 1, 1, 1, C]`. */
export function modulatedSilu(h: tf.Tensor4D, scale: tf.Tensor, shift: tf.Tensor): tf.Tensor4D {
  return modulatedSiluOp(h, scale, shift) as tf.Tensor4D;
}
