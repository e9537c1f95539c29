import type { tf } from '@srdiff/core';

/**
 * Observer of intermediate activations, called with names like `init_conv.in`, `time_mlp.0.out`,
 * `downs.3.2.out` or `mid_attn.out` (the original's module paths; the reference's `debug.*` keys).
 * Tensors are NHWC and valid only during the call: read or clone them to keep them.
 */
export type ActivationTrace = (name: string, value: tf.Tensor) => void;
