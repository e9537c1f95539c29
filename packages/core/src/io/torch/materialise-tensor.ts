import type { TorchTensorData } from './torch-dtypes';
import type { TorchTensor } from './torch-tensor';

/**
 * Copies a tensor's view out of its storage into contiguous row-major values. The view must lie
 * inside the storage (a storage shorter than its tensor is a corrupt file, never an out-of-bounds
 * read), and the result must be a size JavaScript can allocate.
 */

/** Elements one tensor may have: 2³¹ − 1 (an 8 GiB float32 array; BLIP-large's largest is 31 M). */
export const MAX_TENSOR_ELEMENTS = 2 ** 31 - 1;
/** A broadcast view (stride 0) may have more elements than its storage, but not absurdly more. */
const MAX_BROADCAST_ELEMENTS = 2 ** 26;

export class TensorLayoutError extends Error {}

export function tensorNumel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Highest storage element (relative to the view's start) the tensor reads, or -1 when it is empty. */
export function tensorExtent(shape: readonly number[], stride: readonly number[], storageOffset: number): number {
  if (tensorNumel(shape) === 0) return -1;
  let last = storageOffset;
  for (let d = 0; d < shape.length; d++) last += (shape[d]! - 1) * stride[d]!;
  return last;
}

function isContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expected) return false;
    expected *= shape[d]!;
  }
  return true;
}

type Indexable = { [i: number]: number | bigint; length: number; slice(a: number, b: number): TorchTensorData };

/**
 * `storage` holds the root storage's elements; `mayAlias` says the result may be `storage` itself
 * (when the tensor covers all of it and no other tensor has been given it).
 */
export function materialiseTensor(t: TorchTensor, storage: TorchTensorData, mayAlias: boolean): TorchTensorData {
  const { shape } = t;
  const { stride, storageOffset, storage: ref } = t.layout;
  const numel = tensorNumel(shape);
  if (!Number.isSafeInteger(numel) || numel > MAX_TENSOR_ELEMENTS) {
    throw new TensorLayoutError(`shape [${shape.join(', ')}] has ${numel} elements, more than the ${MAX_TENSOR_ELEMENTS} one array can hold (corrupt or hostile file)`);
  }
  if (numel > ref.numel && numel > MAX_BROADCAST_ELEMENTS) {
    throw new TensorLayoutError(`shape [${shape.join(', ')}] (${numel} elements) is a view over a storage of only ${ref.numel}; a broadcast this large is refused`);
  }
  const Ctor = storage.constructor as new (n: number) => TorchTensorData;
  if (numel === 0) return new Ctor(0);
  const extent = tensorExtent(shape, stride, storageOffset);
  if (extent >= ref.numel) {
    throw new TensorLayoutError(
      `storage "${ref.key}" holds ${ref.numel} ${ref.type.dtype} values but the tensor (shape [${shape.join(', ')}], stride [${stride.join(', ')}], offset ${storageOffset}) reaches element ${extent}: the storage is shorter than its tensor`,
    );
  }
  const base = ref.viewOffset + storageOffset;
  if (ref.viewOffset + extent >= storage.length) {
    throw new TensorLayoutError(`storage "${ref.key}" has ${storage.length} values, fewer than its view at offset ${ref.viewOffset} needs`);
  }
  if (isContiguous(shape, stride)) {
    if (mayAlias && base === 0 && numel === storage.length) return storage;
    return (storage as unknown as Indexable).slice(base, base + numel);
  }
  const src = storage as unknown as Indexable;
  const out = new Ctor(numel) as unknown as Indexable;
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  let off = base;
  for (let i = 0; i < numel; i++) {
    out[i] = src[off]!;
    for (let d = rank - 1; d >= 0; d--) {
      off += stride[d]!;
      if (++idx[d]! < shape[d]!) break;
      off -= stride[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
  return out as unknown as TorchTensorData;
}
