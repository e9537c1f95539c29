import { conv2d, tf, type Conv2d } from '@srdiff/core';

/**
 * `layer` applied to the channel concatenation of `parts` (NHWC), without materialising it: the
 * sum of one convolution per part with the matching input-channel slice of the filter. The
 * UNet's skip connections and the init conv's `cat([xt - cond, cond])` go through here because a
 * channel-axis concat (and its gradient, a split) is copied row by row in JavaScript on the wasm
 * backend — tens of milliseconds per 64×64 batch — while a filter slice is a few hundred rows.
 */
export function convParts(layer: Conv2d, parts: readonly tf.Tensor4D[]): tf.Tensor4D {
  const channels = parts.reduce((n, p) => n + p.shape[3], 0);
  if (channels !== layer.inChannels) {
    throw new Error(
      `Conv2d(${layer.inChannels} → ${layer.outChannels}): the parts have ${parts.map((p) => p.shape[3]).join(' + ')} = ${channels} channels, expected ${layer.inChannels}`,
    );
  }
  if (parts.length === 1) return layer.forward(parts[0]!);
  return tf.tidy(() => {
    const options = { stride: layer.stride, padding: layer.padding };
    let offset = 0;
    let sum: tf.Tensor4D | undefined;
    for (const part of parts) {
      const c = part.shape[3];
      const filter = tf.slice(layer.weight, [0, 0, offset, 0], [-1, -1, c, -1]) as tf.Tensor4D;
      offset += c;
      const y = conv2d(part, filter, options);
      sum = sum ? (tf.add(sum, y) as tf.Tensor4D) : y;
    }
    return (layer.bias ? tf.add(sum!, layer.bias) : sum!) as tf.Tensor4D;
  });
}
