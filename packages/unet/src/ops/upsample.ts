import { tf, upsampleNearest } from '@srdiff/core';

/**
 * Nearest-neighbour ×2 upsampling of NHWC (`nn.Upsample(scale_factor=2, mode='nearest')`).
 *
 * On the cpu backend the gradient is computed here: tfjs-backend-cpu 4.22's
 * ResizeNearestNeighborGrad returns wrong values for batches > 1 (e.g. [2, 8, 8, 8]: off by 0.08,
 * [2, 3, 5, 2]: by 5), which made every gradient below the first upsampling wrong there.
 * The gradient of ×2 nearest upsampling is the sum of each 2×2 output block.
 */
export function upsample2x(x: tf.Tensor4D): tf.Tensor4D {
  return tf.getBackend() === 'cpu' ? (upsampleWithBlockSumGradient(x) as tf.Tensor4D) : upsampleNearest(x, 2);
}

const upsampleWithBlockSumGradient = tf.customGrad((x) => {
  const input = x as tf.Tensor4D;
  return {
    value: upsampleNearest(input, 2),
    gradFunc: (dy: tf.Tensor) => {
      const [b, h, w, c] = input.shape;
      // dy [B, 2H, 2W, C] → rows: sum the two output rows of each input row, then the two columns.
      const rows = tf.sum(tf.reshape(dy, [b * h, 2, 2 * w * c]), 1);
      return tf.reshape(tf.sum(tf.reshape(rows, [b * h * w, 2, c]), 1), [b, h, w, c]);
    },
  };
});
