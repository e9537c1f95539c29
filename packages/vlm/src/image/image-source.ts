import type { Sharp } from 'sharp';

/** Pixels already in memory: interleaved (HWC) 8-bit or 16-bit samples, 1–4 channels. */
export interface RawPixels {
  data: Uint8Array | Uint8ClampedArray | Uint16Array;
  width: number;
  height: number;
  /** 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA. */
  channels: 1 | 2 | 3 | 4;
}

/**
 * One image: a file path, the bytes of an encoded file (Buffer / Uint8Array: PNG, JPEG, WebP,
 * TIFF, GIF, AVIF, … anything sharp reads), a `sharp` instance, or decoded pixels.
 */
export type ImageSource = string | Uint8Array | Sharp | RawPixels;

/**
 * A batch as one NHWC float tensor with values in [0, 1] (srdiff's public image convention): a
 * TensorFlow.js tensor or a `HostTensor` from `@srdiff/core`, shape `[N, H, W, C]` or `[H, W, C]`.
 */
export type NhwcTensor = { shape: readonly number[]; data: ArrayLike<number> } | { shape: readonly number[]; dataSync(): ArrayLike<number> };

/** What `extract` accepts: a list of images, or an NHWC tensor holding a batch. */
export type ImageBatch = readonly ImageSource[] | NhwcTensor;

export function isRawPixels(x: unknown): x is RawPixels {
  return typeof x === 'object' && x !== null && !(x instanceof Uint8Array) && 'data' in x && 'width' in x && 'height' in x && 'channels' in x;
}

export function isSharp(x: unknown): x is Sharp {
  return typeof x === 'object' && x !== null && typeof (x as Sharp).clone === 'function' && typeof (x as Sharp).metadata === 'function';
}

export function isNhwcTensor(x: unknown): x is NhwcTensor {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && Array.isArray((x as NhwcTensor).shape) && ('data' in x || 'dataSync' in x) && !('width' in x);
}

/** A short name for an image in messages: its path, or its position and kind. */
export function describeSource(source: ImageSource, index: number): string {
  if (typeof source === 'string') return source;
  if (source instanceof Uint8Array) return `images[${index}] (encoded image, ${source.length} bytes)`;
  if (isSharp(source)) return `images[${index}] (sharp instance)`;
  return `images[${index}] (${source.width}x${source.height}x${source.channels} pixels)`;
}
