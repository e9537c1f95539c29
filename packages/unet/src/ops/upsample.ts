import { upsampleNearest, type tf } from '@srdiff/core';

/**
 * Nearest-neighbour ×2 upsampling of NHWC (`nn.Upsample(scale_factor=2, mode='nearest')`), with
 * core's block-sum gradient (tfjs-backend-cpu's own is wrong for batches > 1).
 */
export function upsample2x(x: tf.Tensor4D): tf.Tensor4D {
  return upsampleNearest(x, 2);
}
