/**
 * A tensor held in host memory, independent of any engine: row-major float32 data and a shape.
 * State dicts, safetensors and .npy files use this type; engines convert at their boundary.
 */
export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

/** Named host tensors, e.g. a PyTorch-layout state dict. */
export type TensorDict = Record<string, HostTensor>;

export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function hostTensor(shape: number[], data: Float32Array | number[]): HostTensor {
  const arr = data instanceof Float32Array ? data : Float32Array.from(data);
  if (shapeSize(shape) !== arr.length) {
    throw new Error(`hostTensor: shape [${shape.join(', ')}] needs ${shapeSize(shape)} values, got ${arr.length}`);
  }
  return { shape: [...shape], data: arr };
}
