import { disposeGradients, tf, valueAndGrads, type AdamW, type NamedGradients } from '@srdiff/core';
import { hybridLoss } from '../loss/hybrid-loss';
import type { SemanticRefinementModule } from '../models/semantic-refinement-module';
import { clipGradients } from './clip-gradients';

export interface SrmStepSettings {
  /** Learning rate of this step (from the schedule). */
  lr: number;
  /** Hybrid-loss weight of L1. */
  alpha: number;
  /** Global gradient-norm clip. */
  maxGradNorm: number;
  /**
   * Rows per forward/backward pass; a larger batch is split and its gradients accumulated before the
   * single clip + update (default: no split). Needed for the original's batch 8192 on wasm, whose
   * 4 GiB address space cannot hold the activations of 8192 rows at the original size.
   */
  microBatchSize?: number;
}

export interface SrmStepResult {
  /** Hybrid loss of the batch before the update. */
  loss: number;
  /** Global L2 norm of the true gradients before clipping. */
  gradNorm: number;
  /** Factor the gradients were multiplied by (1 when the clip did not fire). */
  clipScale: number;
}

/**
 * One optimisation step of `sr/train.py` in float32: hybrid loss of `model(lq)` against `gt`, all
 * gradients, `clip_grad_norm_(…, maxGradNorm)`, one AdamW update with the given lr.
 *
 * Deliberate deviation: the original runs under CUDA autocast with a GradScaler and calls the clip
 * on the *scaled* gradients (no `scaler.unscale_`), so there the clip threshold is effectively
 * 1/scale in true units and nearly always fires. Here the clip acts on the true gradients.
 */
export function srmTrainStep(model: SemanticRefinementModule, optimizer: AdamW, lq: tf.Tensor2D, gt: tf.Tensor2D, settings: SrmStepSettings): SrmStepResult {
  const { loss, grads } = batchGradients(model, lq, gt, settings.alpha, settings.microBatchSize);
  const clip = clipGradients(grads, settings.maxGradNorm);
  try {
    optimizer.update(clip.grads, settings.lr);
  } finally {
    disposeGradients(clip.grads);
  }
  return { loss, gradNorm: clip.totalNorm, clipScale: clip.scale };
}

/**
 * Loss and gradients of the whole batch. Both terms of the hybrid loss are means (L1 over elements,
 * cosine over rows), so the batch loss is Σ (n_i / N) · loss_i over micro-batches of n_i rows, and so
 * are its gradients.
 */
function batchGradients(model: SemanticRefinementModule, lq: tf.Tensor2D, gt: tf.Tensor2D, alpha: number, microBatchSize?: number): { loss: number; grads: NamedGradients } {
  const rows = lq.shape[0];
  const micro = microBatchSize ?? rows;
  if (!(Number.isInteger(micro) && micro > 0)) throw new Error(`srmTrainStep: microBatchSize must be a positive integer, got ${micro}`);
  if (rows <= micro) {
    const { value, grads } = valueAndGrads(model, () => hybridLoss(model.forward(lq), gt, alpha));
    const loss = value.dataSync()[0]!;
    value.dispose();
    return { loss, grads };
  }
  let total: NamedGradients | undefined;
  let loss = 0;
  for (let start = 0; start < rows; start += micro) {
    const n = Math.min(micro, rows - start);
    const weight = n / rows;
    const [x, y] = [tf.slice(lq, [start, 0], [n, -1]), tf.slice(gt, [start, 0], [n, -1])];
    const { value, grads } = valueAndGrads(model, () => tf.mul(hybridLoss(model.forward(x), y, alpha), weight));
    tf.dispose([x, y]);
    loss += value.dataSync()[0]!;
    value.dispose();
    if (!total) {
      total = grads;
      continue;
    }
    for (const [k, g] of Object.entries(grads)) {
      const sum = tf.add(total[k]!, g);
      tf.dispose([total[k]!, g]);
      total[k] = sum;
    }
  }
  return { loss, grads: total! };
}
