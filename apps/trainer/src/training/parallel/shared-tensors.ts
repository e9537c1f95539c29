import { shapeSize, tf, type HostTensor, type NamedGradients } from '@srdiff/core';
import type { DiffusionBatch } from '../diffusion-loss';

/**
 * Where each trainable variable lives in one flat float32 buffer. The main thread and every worker
 * build the same network, so they agree on names, shapes and order; the workers check the names.
 */
export interface FlatLayout {
  names: string[];
  shapes: number[][];
  offsets: number[];
  /** Total number of values. */
  size: number;
}

export function flatLayout(variables: Record<string, tf.Variable>): FlatLayout {
  const names = Object.keys(variables);
  const shapes = names.map((n) => [...variables[n]!.shape]);
  const offsets: number[] = [];
  let size = 0;
  for (const s of shapes) {
    offsets.push(size);
    size += shapeSize(s);
  }
  return { names, shapes, offsets, size };
}

function view(buffer: Float32Array, layout: FlatLayout, i: number): Float32Array {
  return buffer.subarray(layout.offsets[i]!, layout.offsets[i]! + shapeSize(layout.shapes[i]!));
}

/**
 * A tensor of values read from a shared buffer. The wasm and native backends copy them in; the cpu
 * backend would keep the array itself, which the other thread overwrites at the next step.
 */
function tensorFromShared(values: Float32Array, shape: number[]): tf.Tensor {
  return tf.tensor(tf.getBackend() === 'cpu' ? values.slice() : values, shape);
}

/** Copies the variables' values into `target` (the main thread publishing the weights of a step). */
export function writeVariables(variables: Record<string, tf.Variable>, layout: FlatLayout, target: Float32Array): void {
  layout.names.forEach((name, i) => view(target, layout, i).set(variables[name]!.dataSync() as Float32Array));
}

/** Assigns every variable its values from `source` (a worker taking the published weights). */
export function assignVariables(variables: Record<string, tf.Variable>, layout: FlatLayout, source: Float32Array): void {
  layout.names.forEach((name, i) => {
    tf.tidy(() => variables[name]!.assign(tensorFromShared(view(source, layout, i), layout.shapes[i]!)));
  });
}

/** Writes the gradients into `target`; returns the indices of the variables that have one. */
export function writeGradients(grads: NamedGradients, layout: FlatLayout, target: Float32Array): number[] {
  const present: number[] = [];
  layout.names.forEach((name, i) => {
    const g = grads[name];
    if (!g) return;
    view(target, layout, i).set(g.dataSync() as Float32Array);
    present.push(i);
  });
  return present;
}

/** A worker's gradients: its flat buffer and the indices of the variables that have one. */
export interface FlatGradients {
  buffer: Float32Array;
  present: number[];
}

/**
 * The batch's gradients: this thread's (tensors, disposed here) plus every worker's, per variable.
 * Each shard's loss was already weighted by its share of the batch, so the sum is the batch's
 * gradient. A variable without a gradient anywhere stays absent (PyTorch leaves its grad None).
 */
export function sumGradients(local: NamedGradients, remote: FlatGradients[], layout: FlatLayout): NamedGradients {
  const presentSets = remote.map((r) => new Set(r.present));
  const out: NamedGradients = {};
  layout.names.forEach((name, i) => {
    const own = local[name];
    const parts = remote.filter((_, k) => presentSets[k]!.has(i)).map((r) => view(r.buffer, layout, i));
    if (!parts.length) {
      if (own) out[name] = own;
      return;
    }
    out[name] = tf.tidy(() => parts.reduce<tf.Tensor>((sum, values) => tf.add(sum, tensorFromShared(values, layout.shapes[i]!)), own ?? tf.zeros(layout.shapes[i]!)));
    own?.dispose();
  });
  return out;
}

/** A batch in host memory, as posted to a worker. */
export interface HostBatch {
  lq: HostTensor;
  gt: HostTensor;
  states: HostTensor;
  timesteps: number[];
  embedding?: HostTensor;
}

/**
 * Consecutive shards of `sizes` batch elements each, starting at element `start`, in host memory
 * (each tensor is read back once for all of them).
 */
export function hostShards(batch: DiffusionBatch, start: number, sizes: readonly number[]): HostBatch[] {
  const firsts = sizes.map((_, k) => start + sizes.slice(0, k).reduce((a, b) => a + b, 0));
  const rowsOf = (t: tf.Tensor): HostTensor[] => {
    const all = t.dataSync() as Float32Array;
    const inner = t.shape.slice(1);
    const per = shapeSize(inner);
    return sizes.map((count, k) => ({ shape: [count, ...inner], data: all.slice(firsts[k]! * per, (firsts[k]! + count) * per) }));
  };
  const [lq, gt, states] = [rowsOf(batch.lq), rowsOf(batch.gt), rowsOf(batch.states)];
  const embedding = batch.embedding ? rowsOf(batch.embedding) : undefined;
  return sizes.map((count, k) => ({
    lq: lq[k]!, gt: gt[k]!, states: states[k]!, timesteps: batch.timesteps.slice(firsts[k]!, firsts[k]! + count), embedding: embedding?.[k],
  }));
}

/** A shard on this thread: views of the batch (tensors the caller disposes). */
export function localShard(batch: DiffusionBatch, start: number, count: number): DiffusionBatch {
  const rows = <T extends tf.Tensor>(t: T): T => tf.slice(t, start, count) as T;
  return {
    lq: rows(batch.lq), gt: rows(batch.gt), states: rows(batch.states),
    timesteps: batch.timesteps.slice(start, start + count),
    embedding: batch.embedding ? rows(batch.embedding) : undefined,
  };
}

export function batchFromHost(h: HostBatch): DiffusionBatch {
  const image = (x: HostTensor) => tf.tensor4d(x.data, x.shape as [number, number, number, number]);
  return {
    lq: image(h.lq), gt: image(h.gt), states: image(h.states), timesteps: h.timesteps,
    embedding: h.embedding ? tf.tensor2d(h.embedding.data, h.embedding.shape as [number, number]) : undefined,
  };
}

export function disposeBatch(b: DiffusionBatch): void {
  b.lq.dispose();
  b.gt.dispose();
  b.states.dispose();
  b.embedding?.dispose();
}

/**
 * Sizes of `parts` contiguous shards of `batch` elements, as even as possible (larger ones first).
 * Fewer shards than asked when the batch is smaller than `parts`.
 */
export function shardSizes(batch: number, parts: number): number[] {
  const n = Math.max(1, Math.min(parts, batch));
  return Array.from({ length: n }, (_, i) => Math.floor(batch / n) + (i < batch % n ? 1 : 0));
}
