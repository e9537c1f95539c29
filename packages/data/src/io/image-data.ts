import type { HostTensor } from '@srdiff/core';
import { tensor2img } from '@srdiff/metrics';
import { rawToFloat } from './pixels';

/**
 * Pixels as a page has them (`ImageData` of a canvas: RGBA, 8 bits, row-major) ↔ the NHWC host
 * tensors the networks take, converted exactly as in Node: to float the way `readImage` does
 * (`v / 255` in float32, alpha dropped, as the original's `cv2.imread` + `[:, :, :3]`), back to 8
 * bits the way `writeImage` does (`tensor2img`: clamp, ×255 in float32, round half to even).
 * So an opaque PNG decoded by a canvas restores to the same pixels as `srdiff restore` writes.
 */
export interface ImageDataLike {
  width: number;
  height: number;
  /** `height * width * 4` RGBA bytes. */
  data: Uint8ClampedArray | Uint8Array;
}

/** `[1, H, W, 3]` float32 in [0, 1] from RGBA pixels (alpha dropped). */
export function imageDataToTensor(image: ImageDataLike): HostTensor {
  const { width, height, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`imageDataToTensor: width and height must be positive integers, got ${width}×${height}`);
  }
  if (data.length !== width * height * 4) {
    throw new Error(`imageDataToTensor: ${width}×${height} RGBA needs ${width * height * 4} bytes, got ${data.length}`);
  }
  const rgb = new Uint8Array(width * height * 3);
  for (let p = 0, i = 0, o = 0; p < width * height; p++, i += 4, o += 3) {
    rgb[o] = data[i]!;
    rgb[o + 1] = data[i + 1]!;
    rgb[o + 2] = data[i + 2]!;
  }
  return { shape: [1, height, width, 3], data: rawToFloat({ bitDepth: 8, data: rgb }) };
}

/** RGBA pixels (opaque) of a `[1, H, W, 3]` or `[H, W, 3]` tensor in [0, 1], quantised as `writeImage` does; `new ImageData(data, width, height)` takes them. */
export function tensorToImageData(image: { shape: readonly number[]; data: ArrayLike<number> }): { width: number; height: number; data: Uint8ClampedArray } {
  const dims = image.shape.length === 4 && image.shape[0] === 1 ? image.shape.slice(1) : image.shape;
  if (dims.length !== 3 || dims[2] !== 3) throw new Error(`tensorToImageData: expected [1, H, W, 3] or [H, W, 3], got [${image.shape.join(', ')}]`);
  const [height, width] = dims as [number, number, number];
  if (image.data.length !== height * width * 3) throw new Error(`tensorToImageData: shape [${image.shape.join(', ')}] needs ${height * width * 3} values, got ${image.data.length}`);
  const bytes = tensor2img(image.data);
  const out = new Uint8ClampedArray(width * height * 4);
  for (let p = 0, i = 0, o = 0; p < width * height; p++, i += 3, o += 4) {
    out[o] = bytes[i]!;
    out[o + 1] = bytes[i + 1]!;
    out[o + 2] = bytes[i + 2]!;
    out[o + 3] = 255;
  }
  return { width, height, data: out };
}
