/**
 * A re-implementation of Pillow's `Image.resize` for 8-bit images (`libImaging/Resample.c`), so
 * that srdiff preprocesses exactly like Hugging Face's Python CLIP image processor, which resizes a
 * uint8 PIL image. Matching it bit for bit needs all of Pillow's choices:
 *
 * - the filter is scaled by the downscale factor (antialiasing): support = filter support × max(1, in/out);
 * - output pixel `i` is centred on input position `(i + 0.5) · in/out` (half-pixel centres);
 * - the window is `[round(centre − support), round(centre + support))`, clipped to the image, and
 *   the weights are renormalised to sum to 1 inside it (edges are not padded);
 * - weights become 22-bit fixed-point integers, accumulation starts at 0.5 (rounding) and the
 *   result is clipped to [0, 255];
 * - two passes, horizontal first, with the intermediate image rounded to uint8; a pass is skipped
 *   when that axis keeps its size.
 */

/** Pillow's resampling filters by their `Image.Resampling` numbers (NEAREST = 0 is not a convolution). */
export const PIL_FILTERS = {
  1: { name: 'lanczos', support: 3, fn: lanczos },
  2: { name: 'bilinear', support: 1, fn: triangle },
  3: { name: 'bicubic', support: 2, fn: bicubic },
  4: { name: 'box', support: 0.5, fn: box },
  5: { name: 'hamming', support: 1, fn: hamming },
} as const;

export type PilFilter = keyof typeof PIL_FILTERS;

/** Fixed-point precision of Pillow's 8-bit path: 32 bits − 8 (pixel) − 2 (headroom). */
const PRECISION_BITS = 32 - 8 - 2;

function box(x: number): number {
  return x > -0.5 && x <= 0.5 ? 1 : 0;
}

function triangle(x: number): number {
  const ax = Math.abs(x);
  return ax < 1 ? 1 - ax : 0;
}

/** Keys' cubic convolution with a = −0.5 (Pillow's choice; sharp's Catmull-Rom is the same kernel). */
function bicubic(x: number): number {
  const a = -0.5;
  const ax = Math.abs(x);
  if (ax < 1) return ((a + 2) * ax - (a + 3)) * ax * ax + 1;
  if (ax < 2) return (((ax - 5) * ax + 8) * ax - 4) * a;
  return 0;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

function lanczos(x: number): number {
  return x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0;
}

function hamming(x: number): number {
  const ax = Math.abs(x);
  if (ax === 0) return 1;
  if (ax >= 1) return 0;
  const px = ax * Math.PI;
  // Pillow writes these constants as C floats (0.54f, 0.46f).
  return (Math.sin(px) / px) * (Math.fround(0.54) + Math.fround(0.46) * Math.cos(px));
}

/** Per-output-pixel window start, window length and fixed-point weights for one axis. */
interface AxisCoefficients {
  start: Int32Array;
  length: Int32Array;
  /** `outSize × kernelSize` integer weights (row i holds output pixel i's window). */
  weights: Int32Array;
  kernelSize: number;
}

function axisCoefficients(inSize: number, outSize: number, filter: PilFilter): AxisCoefficients {
  const { support: baseSupport, fn } = PIL_FILTERS[filter];
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = baseSupport * filterScale;
  const kernelSize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const length = new Int32Array(outSize);
  const weights = new Int32Array(outSize * kernelSize);
  const row = new Float64Array(kernelSize);
  const invFilterScale = 1 / filterScale;
  for (let i = 0; i < outSize; i++) {
    const centre = (i + 0.5) * scale;
    // Pillow rounds with a C cast of (x + 0.5), i.e. truncation toward zero.
    const lo = Math.max(Math.trunc(centre - support + 0.5), 0);
    const hi = Math.min(Math.trunc(centre + support + 0.5), inSize);
    const n = hi - lo;
    let sum = 0;
    for (let k = 0; k < n; k++) {
      const w = fn((k + lo - centre + 0.5) * invFilterScale);
      row[k] = w;
      sum += w;
    }
    for (let k = 0; k < n; k++) {
      const w = sum !== 0 ? row[k]! / sum : row[k]!;
      // Round half away from zero, as Pillow's normalize_coeffs_8bpc does.
      weights[i * kernelSize + k] = w < 0 ? Math.trunc(-0.5 + w * (1 << PRECISION_BITS)) : Math.trunc(0.5 + w * (1 << PRECISION_BITS));
    }
    start[i] = lo;
    length[i] = n;
  }
  return { start, length, weights, kernelSize };
}

function clip8(acc: number): number {
  if (acc >= 1 << PRECISION_BITS << 8) return 255;
  if (acc <= 0) return 0;
  return acc >> PRECISION_BITS;
}

/**
 * Accumulates like Pillow's int32 sums. Products of a uint8 and a 22-bit weight and their sums stay
 * well inside 2^31 for normalised windows, so plain JS numbers hold them exactly.
 */
function resampleHorizontal(src: Uint8Array, width: number, rows: number, channels: number, rowOffset: number, outWidth: number, c: AxisCoefficients): Uint8Array {
  const out = new Uint8Array(outWidth * rows * channels);
  const half = 1 << (PRECISION_BITS - 1);
  for (let y = 0; y < rows; y++) {
    const srcRow = (y + rowOffset) * width * channels;
    const dstRow = y * outWidth * channels;
    for (let x = 0; x < outWidth; x++) {
      const lo = c.start[x]!;
      const n = c.length[x]!;
      const wBase = x * c.kernelSize;
      for (let ch = 0; ch < channels; ch++) {
        let acc = half;
        for (let k = 0; k < n; k++) acc += src[srcRow + (lo + k) * channels + ch]! * c.weights[wBase + k]!;
        out[dstRow + x * channels + ch] = clip8(acc);
      }
    }
  }
  return out;
}

function resampleVertical(src: Uint8Array, width: number, channels: number, outHeight: number, c: AxisCoefficients, rowShift: number): Uint8Array {
  const out = new Uint8Array(width * outHeight * channels);
  const half = 1 << (PRECISION_BITS - 1);
  const stride = width * channels;
  for (let y = 0; y < outHeight; y++) {
    const lo = c.start[y]! - rowShift;
    const n = c.length[y]!;
    const wBase = y * c.kernelSize;
    for (let i = 0; i < stride; i++) {
      let acc = half;
      for (let k = 0; k < n; k++) acc += src[(lo + k) * stride + i]! * c.weights[wBase + k]!;
      out[y * stride + i] = clip8(acc);
    }
  }
  return out;
}

/** An interleaved (HWC) 8-bit image. */
export interface Uint8Image {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

/** Resizes an interleaved uint8 image exactly as Pillow's `Image.resize(size, filter)` does (reducing_gap None). */
export function pilResize(image: Uint8Image, outWidth: number, outHeight: number, filter: PilFilter = 3): Uint8Image {
  const { width, height, channels } = image;
  if (!PIL_FILTERS[filter]) throw new Error(`pilResize: unsupported resample filter ${filter} (supported: ${Object.keys(PIL_FILTERS).join(', ')})`);
  if (!(outWidth >= 1 && outHeight >= 1 && Number.isInteger(outWidth) && Number.isInteger(outHeight))) {
    throw new Error(`pilResize: output size must be positive integers, got ${outWidth}x${outHeight}`);
  }
  if (image.data.length !== width * height * channels) {
    throw new Error(`pilResize: ${width}x${height}x${channels} image needs ${width * height * channels} bytes, got ${image.data.length}`);
  }
  if (outWidth === width && outHeight === height) return { data: image.data.slice(), width, height, channels };
  const vertical = axisCoefficients(height, outHeight, filter);
  let data = image.data;
  let rowShift = 0;
  if (outWidth !== width) {
    // Only the source rows the vertical pass will read go through the horizontal pass.
    const first = vertical.start[0]!;
    const last = vertical.start[outHeight - 1]! + vertical.length[outHeight - 1]!;
    const rows = outHeight !== height ? last - first : height;
    rowShift = outHeight !== height ? first : 0;
    data = resampleHorizontal(data, width, rows, channels, rowShift, outWidth, axisCoefficients(width, outWidth, filter));
  }
  if (outHeight !== height) data = resampleVertical(data, outWidth, channels, outHeight, vertical, rowShift);
  return { data, width: outWidth, height: outHeight, channels };
}
