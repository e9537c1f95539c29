import { tf, type HostTensor } from '@srdiff/core';
import { REFINE_DEFAULTS, resolveBatchSize } from './config';
import type { SemanticRefinementModule } from './models/semantic-refinement-module';

export interface RefineOptions {
  /** Embeddings per forward pass (default 1024). */
  batchSize?: number;
}

/**
 * Refines a batch of VLM embeddings with a (frozen) SRM — no gradients are recorded.
 * - `tf.Tensor2D [N, D]` → `tf.Tensor2D [N, D]` (caller disposes);
 * - `HostTensor` of shape `[N, D]` → `HostTensor`;
 * - `Float32Array[]` (one vector each) → `Float32Array[]`.
 * Width mismatches are errors naming the expected width.
 */
export function refine(model: SemanticRefinementModule, embeddings: tf.Tensor2D, options?: RefineOptions): tf.Tensor2D;
export function refine(model: SemanticRefinementModule, embeddings: HostTensor, options?: RefineOptions): HostTensor;
export function refine(model: SemanticRefinementModule, embeddings: readonly Float32Array[], options?: RefineOptions): Float32Array[];
export function refine(
  model: SemanticRefinementModule,
  embeddings: tf.Tensor2D | HostTensor | readonly Float32Array[],
  options: RefineOptions = {},
): tf.Tensor2D | HostTensor | Float32Array[] {
  const batchSize = resolveBatchSize('refine', options.batchSize, REFINE_DEFAULTS.batchSize);
  const D = model.inputDim;
  if (embeddings instanceof tf.Tensor) return model.forward(embeddings);
  if (Array.isArray(embeddings)) {
    const rows = embeddings as readonly Float32Array[];
    rows.forEach((r, i) => {
      if (r.length !== D) throw new Error(`refine: embedding ${i} is ${r.length} wide, the SRM expects ${D}`);
    });
    const flat = new Float32Array(rows.length * D);
    rows.forEach((r, i) => flat.set(r, i * D));
    const out = refineRows(model, flat, rows.length, batchSize);
    return rows.map((_, i) => out.slice(i * D, (i + 1) * D));
  }
  const host = embeddings as HostTensor;
  if (host.shape.length !== 2 || host.shape[1] !== D || host.data.length !== host.shape[0]! * D) {
    throw new Error(`refine: expected a [N, ${D}] tensor, got shape [${host.shape.join(', ')}]`);
  }
  return { shape: [...host.shape], data: refineRows(model, host.data, host.shape[0]!, batchSize) };
}

function refineRows(model: SemanticRefinementModule, flat: Float32Array, count: number, batchSize: number): Float32Array {
  const D = model.inputDim;
  const out = new Float32Array(count * D);
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    const y = tf.tidy(() => model.forward(tf.tensor2d(flat.subarray(start * D, (start + n) * D), [n, D])));
    out.set(y.dataSync() as Float32Array, start * D);
    y.dispose();
  }
  return out;
}
