import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../nn/module';

/** Gradients keyed by state-dict name (tfjs layout of each parameter). */
export type NamedGradients = Record<string, tf.Tensor>;

/**
 * Evaluates `loss()` and the gradient of every trainable parameter of `module`, keyed by the
 * parameter's state-dict name. The caller owns (and must dispose) the returned tensors.
 */
export function valueAndGrads(module: Module, loss: () => tf.Scalar): { value: tf.Scalar; grads: NamedGradients } {
  const vars = module.trainableVariables();
  const byVarName = new Map(Object.entries(vars).map(([name, v]) => [v.name, name]));
  const { value, grads } = tf.variableGrads(loss, Object.values(vars));
  const named: NamedGradients = {};
  for (const [varName, g] of Object.entries(grads)) named[byVarName.get(varName) ?? varName] = g;
  return { value, grads: named };
}

export function disposeGradients(grads: NamedGradients): void {
  for (const g of Object.values(grads)) g.dispose();
}

export interface ClipResult {
  /** Gradients after clipping (new tensors; the inputs are disposed unless `keepInput`). */
  grads: NamedGradients;
  /** Global L2 norm before clipping. */
  totalNorm: number;
  /** The factor every gradient was multiplied by, min(1, maxNorm / (totalNorm + 1e-6)). */
  scale: number;
}

/**
 * `torch.nn.utils.clip_grad_norm_(params, maxNorm)` with the L2 norm: total = ‖(‖g_p‖₂)_p‖₂ and every
 * gradient is multiplied by min(1, maxNorm / (total + 1e-6)).
 */
export function clipGradNorm(grads: NamedGradients, maxNorm: number, options: { keepInput?: boolean } = {}): ClipResult {
  if (!(maxNorm > 0)) throw new Error(`clipGradNorm: maxNorm must be > 0, got ${maxNorm}`);
  const totalNorm = globalNorm(grads);
  const scale = Math.min(1, maxNorm / (totalNorm + 1e-6));
  const clipped: NamedGradients = {};
  for (const [k, g] of Object.entries(grads)) {
    clipped[k] = tf.tidy(() => tf.mul(g, scale));
    if (!options.keepInput) g.dispose();
  }
  return { grads: clipped, totalNorm, scale };
}

/**
 * Global L2 norm of all gradients: per-tensor sums of squares accumulated in float64 (`tf.norm`
 * is ~20× slower on wasm than sum(square)).
 */
export function globalNorm(grads: NamedGradients): number {
  const keys = Object.keys(grads);
  if (!keys.length) return 0;
  const squares = tf.tidy(() => tf.stack(keys.map((k) => tf.sum(tf.square(grads[k]!)))));
  const values = squares.dataSync();
  squares.dispose();
  let sq = 0;
  for (const v of values) sq += v;
  return Math.sqrt(sq);
}
