import { linear as coreLinear, tf, type Linear } from '@srdiff/core';
import { concatRows, splitRows } from './split-rows';

/*
 * Matrix products shaped for the wasm backend. tfjs-backend-wasm sends a BatchMatMul to XNNPACK
 * only when it is a single (batch 1) product without transposeA/transposeB; everything else runs a
 * scalar blocked loop that is 10–50× slower (measured: [16,32,4096]·[16,4096,32] 290 ms batched vs
 * 16 × 0.7 ms as separate products; x·Wᵀ with transposeB 5× slower than x·(Wᵀ)), and tfjs's own
 * gradient of matMul uses exactly those slow forms. Explicit transposes are not free either
 * (~10 ns per element for a tall matrix), so each gradient transposes whichever operands are smaller.
 * Other backends get the plain tfjs ops, which they run natively.
 */

function onWasm(): boolean {
  return tf.getBackend() === 'wasm';
}

/** dA = dY·Bᵀ, as dY·(Bᵀ) or as (B·dYᵀ)ᵀ, whichever transposes fewer elements. */
function gradientOfA(dy: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  const [m, n] = dy.shape;
  const k = b.shape[0];
  return k * n <= m * n + m * k ? tf.matMul(dy, tf.transpose(b)) : (tf.transpose(tf.matMul(b, tf.transpose(dy))) as tf.Tensor2D);
}

/** dB = Aᵀ·dY, as (Aᵀ)·dY or as (dYᵀ·A)ᵀ, whichever transposes fewer elements. */
function gradientOfB(a: tf.Tensor2D, dy: tf.Tensor2D): tf.Tensor2D {
  const [m, k] = a.shape;
  const n = dy.shape[1];
  return m * k <= m * n + k * n ? tf.matMul(tf.transpose(a), dy) : (tf.transpose(tf.matMul(tf.transpose(dy), a)) as tf.Tensor2D);
}

/** a·b whose gradients are untransposed products as well. */
const plainProduct = tf.customGrad((a, b, save) => {
  (save as tf.GradSaveFunc)([a as tf.Tensor, b as tf.Tensor]);
  return {
    value: tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [gradientOfA(dy as tf.Tensor2D, sb), gradientOfB(sa, dy as tf.Tensor2D)];
    },
  };
});

/** `a [M, K] · b [K, N]`. */
export function matMul2d(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return onWasm() ? (plainProduct(a, b) as tf.Tensor2D) : tf.matMul(a, b);
}

/** Batched `a [G, M, K] · b [G, K, N]` → `[G, M, N]` (one product per batch entry on wasm). */
export function batchMatMul(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  if (!onWasm()) return tf.matMul(a, b);
  return tf.tidy(() => {
    const groups = a.shape[0];
    const as = splitRows(tf.reshape(a, [groups * a.shape[1], a.shape[2]]) as tf.Tensor2D, groups);
    const bs = splitRows(tf.reshape(b, [groups * b.shape[1], b.shape[2]]) as tf.Tensor2D, groups);
    const products = as.map((ai, i) => plainProduct(ai, bs[i]!) as tf.Tensor2D);
    return tf.reshape(concatRows(products), [groups, a.shape[1], b.shape[2]]) as tf.Tensor3D;
  });
}

/** `torch.nn.Linear` forward of a core `Linear` layer (weight `[out, in]`): x·Wᵀ + b over the last axis (core's wasm-friendly `linear`). */
export function linear<T extends tf.Tensor>(layer: Linear, x: T): T {
  return coreLinear(x, layer.weight, layer.bias) as T;
}

/** x·Wᵀ + b for a weight `[out, in]` that is not a layer's own (a slice or a concatenation of layers' rows). */
export function linearWith<T extends tf.Tensor>(x: T, weight: tf.Tensor2D, bias?: tf.Tensor1D): T {
  return coreLinear(x, weight, bias) as T;
}
