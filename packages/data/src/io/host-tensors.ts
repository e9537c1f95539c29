import { tf, type HostTensor } from '@srdiff/core';

/** A host tensor as a tfjs tensor of the same shape (float32); the caller disposes it. */
export function hostToTensor<R extends tf.Rank = tf.Rank>(host: HostTensor): tf.Tensor<R> {
  return tf.tensor(host.data, host.shape, 'float32') as unknown as tf.Tensor<R>;
}

/** A tfjs tensor's values and shape on the host. */
export async function tensorToHost(t: tf.Tensor): Promise<HostTensor> {
  const data = await t.data();
  return { shape: [...t.shape], data: data instanceof Float32Array ? data : Float32Array.from(data) };
}

/** A training batch's host tensors as tfjs tensors (the caller disposes them). */
export function batchToTensors(batch: { lq: HostTensor; gt: HostTensor; embedding?: HostTensor }): { lq: tf.Tensor4D; gt: tf.Tensor4D; embedding?: tf.Tensor2D } {
  return {
    lq: hostToTensor<tf.Rank.R4>(batch.lq),
    gt: hostToTensor<tf.Rank.R4>(batch.gt),
    embedding: batch.embedding ? hostToTensor<tf.Rank.R2>(batch.embedding) : undefined,
  };
}
