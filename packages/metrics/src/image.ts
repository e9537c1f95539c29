/**
 * Images as the metrics see them: row-major HWC pixels in RGB order (or a single channel),
 * either 8-bit (`Uint8Array`, 0..255) or floating point in [0, 1] (quantised to 8 bits first,
 * exactly as the original's `tensor2img` does before `test.py` measures anything).
 */
export type PixelData = Uint8Array | Uint8ClampedArray | Float32Array | Float64Array;

export interface PixelImage {
  width: number;
  height: number;
  /** 3 (RGB) or 1 (gray). */
  channels: number;
  /** `height * width * channels` values, HWC. Integer arrays are 0..255, float arrays [0, 1]. */
  data: PixelData;
}

/** What `@tensorflow/tfjs` tensors look like, without importing tfjs. */
export interface TensorLike {
  shape: readonly number[];
  dataSync(): ArrayLike<number>;
}

/** A host tensor (`{ shape, data }`, e.g. `@srdiff/core`'s `HostTensor`). */
export interface HostTensorLike {
  shape: readonly number[];
  data: ArrayLike<number>;
}

/** Anything a metric accepts: an explicit image, or an NHWC / HWC tensor with batch 1, values in [0, 1]. */
export type ImageSource = PixelImage | TensorLike | HostTensorLike;

/** An 8-bit image, the form every metric computes on. */
export interface Uint8Image {
  width: number;
  height: number;
  channels: number;
  data: Uint8Array;
}

const F32 = Math.fround;

/**
 * The original's `tensor2img` quantisation, element by element: clamp to [0, 1], multiply by 255
 * in float32, round half to even (NumPy's `round`), cast to uint8. Layout and channel order are
 * kept (the original also transposes CHW→HWC and swaps RGB→BGR; callers here are HWC RGB already).
 * NaN becomes 0 (what the original's uint8 cast yields on x86).
 */
export function tensor2img(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = quantizeUnit(values[i]!);
  return out;
}

function quantizeUnit(value: number): number {
  const v = F32(value);
  if (!(v > 0)) return 0; // negative, -0 and NaN
  if (v >= 1) return 255;
  const scaled = F32(v * 255);
  const floor = Math.floor(scaled);
  const frac = scaled - floor;
  if (frac > 0.5) return floor + 1;
  if (frac < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

function isTensorLike(x: unknown): x is TensorLike {
  return typeof x === 'object' && x !== null && typeof (x as TensorLike).dataSync === 'function' && Array.isArray((x as TensorLike).shape);
}

function isPixelImage(x: unknown): x is PixelImage {
  return typeof x === 'object' && x !== null && typeof (x as PixelImage).width === 'number' && 'data' in x;
}

/** Image dimensions from an HWC or batch-1 NHWC shape. */
function hwcFromShape(shape: readonly number[], what: string): [number, number, number] {
  if (shape.length === 4) {
    if (shape[0] !== 1) throw new Error(`${what}: expected one image (batch 1), got shape [${shape.join(', ')}]; split the batch first (see splitBatch)`);
    return [shape[1]!, shape[2]!, shape[3]!];
  }
  if (shape.length === 3) return [shape[0]!, shape[1]!, shape[2]!];
  if (shape.length === 2) return [shape[0]!, shape[1]!, 1];
  throw new Error(`${what}: expected an HWC or NHWC shape, got [${shape.join(', ')}]`);
}

function checkImage(img: PixelImage, what: string): void {
  const { width, height, channels, data } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new Error(`${what}: width and height must be positive integers, got ${width}×${height}`);
  }
  if (channels !== 1 && channels !== 3) throw new Error(`${what}: expected 1 or 3 channels, got ${channels}`);
  if (data.length !== width * height * channels) {
    throw new Error(`${what}: ${height}×${width}×${channels} needs ${width * height * channels} values, got ${data.length}`);
  }
}

/** Normalises any accepted input to 8 bits (float inputs through {@link tensor2img}). */
export function toUint8Image(source: ImageSource, what = 'image'): Uint8Image {
  let img: PixelImage;
  if (isPixelImage(source)) {
    img = source;
  } else if (isTensorLike(source) || (typeof source === 'object' && source !== null && 'shape' in source && 'data' in source)) {
    const [height, width, channels] = hwcFromShape(source.shape, what);
    const raw = isTensorLike(source) ? source.dataSync() : source.data;
    const data = raw instanceof Float32Array || raw instanceof Float64Array ? raw : Float32Array.from(raw);
    img = { width, height, channels, data };
  } else {
    throw new Error(`${what}: expected { width, height, channels, data }, a tensor with dataSync(), or { shape, data }`);
  }
  checkImage(img, what);
  const data = img.data instanceof Uint8Array ? img.data : img.data instanceof Uint8ClampedArray ? new Uint8Array(img.data) : tensor2img(img.data);
  return { width: img.width, height: img.height, channels: img.channels, data };
}

/** Splits an NHWC batch (tensor or host tensor) into single images, for the batch helpers. */
export function splitBatch(batch: TensorLike | HostTensorLike): PixelImage[] {
  const shape = batch.shape;
  if (shape.length !== 4) throw new Error(`splitBatch: expected NHWC [N, H, W, C], got [${shape.join(', ')}]`);
  const [n, height, width, channels] = shape as [number, number, number, number];
  const raw = isTensorLike(batch) ? batch.dataSync() : batch.data;
  const all = raw instanceof Float32Array ? raw : Float32Array.from(raw);
  const size = height * width * channels;
  return Array.from({ length: n }, (_, i) => ({ width, height, channels, data: all.subarray(i * size, (i + 1) * size) }));
}
