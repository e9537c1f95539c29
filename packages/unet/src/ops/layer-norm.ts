import { tf, type ChannelLayerNorm, type LayerNorm } from '@srdiff/core';

/*
 * Layer normalisation over the last axis with a hand-written gradient. tfjs differentiates the
 * composed forward (moments, subtract, rsqrt, scale) op by op: about 35 kernels and as many passes
 * over the activation per normalisation; the closed form below takes 21. The arithmetic is the
 * original's: biased variance, (x - mean)·rsqrt(var + eps)·weight (+ bias).
 */

/** y = x̂·w (+ b) with x̂ = (x - mean)/sqrt(var + eps) over the last axis; w, b `[C]`. */
function normalize(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor | undefined, eps: number): tf.Tensor {
  const op = tf.customGrad((...args) => {
    const [input, w, b] = args as [tf.Tensor, tf.Tensor, tf.Tensor | undefined];
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const { mean, variance } = tf.moments(input, -1, true);
    const rstd = tf.rsqrt(tf.add(variance, eps));
    const xhat = tf.mul(tf.sub(input, mean), rstd);
    save([xhat, rstd, w]);
    const scaled = tf.mul(xhat, w);
    return {
      value: b && b instanceof tf.Tensor ? tf.add(scaled, b) : scaled,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sxhat, srstd, sw] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const c = sw.shape[0]!;
        const dxhat = tf.mul(dy, sw);
        // dx = rstd·(dx̂ - mean(dx̂) - x̂·mean(dx̂·x̂)), all means over the normalised axis.
        const dx = tf.mul(tf.sub(tf.sub(dxhat, tf.mean(dxhat, -1, true)), tf.mul(sxhat, tf.mean(tf.mul(dxhat, sxhat), -1, true))), srstd);
        const dw = tf.sum(tf.reshape(tf.mul(dy, sxhat), [-1, c]), 0);
        return b && b instanceof tf.Tensor ? [dx, dw, tf.sum(tf.reshape(dy, [-1, c]), 0)] : [dx, dw];
      },
    };
  });
  return bias ? op(x, weight, bias) : op(x, weight);
}

/** The UNet's channel LayerNorm (module_util `LayerNorm`: gain g `[1, C, 1, 1]`, no bias) on NHWC. */
export function channelLayerNorm(norm: ChannelLayerNorm, x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => normalize(x, tf.reshape(norm.g, [norm.channels]), undefined, norm.eps) as tf.Tensor4D);
}

/** `torch.nn.LayerNorm(dim)` over the last axis, with weight and bias. */
export function layerNorm<T extends tf.Tensor>(norm: LayerNorm, x: T): T {
  return tf.tidy(() => normalize(x, norm.weight, norm.bias, norm.eps) as T);
}
