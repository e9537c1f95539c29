import { tf } from '@srdiff/core';
import { readImage, type DecodeOptions } from './decode';

// Host ↔ tfjs conversions (host-tensors.ts) run in browsers too.
export { batchToTensors, hostToTensor, tensorToHost } from './host-tensors';

/** Reads an image as a tfjs tensor `[1, H, W, 3]` float32 in [0, 1]. */
export async function readImageTensor(file: string, options: DecodeOptions = {}): Promise<tf.Tensor4D> {
  const img = await readImage(file, options);
  return tf.tensor4d(img.data, img.shape as [number, number, number, number], 'float32');
}
