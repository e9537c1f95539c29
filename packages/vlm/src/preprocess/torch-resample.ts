import type { Uint8Image } from './pil-resample';

/**
 * torchvision's antialiased resize of a uint8 image tensor on its float path — what
 * `BlipImageProcessorFast` (`use_fast=True`, transformers ≥ 4.50) runs with torchvision < 0.16:
 * `F.resize(img, size, BICUBIC, antialias=True)` converts the uint8 tensor to float32, calls
 * ATen's `_upsample_bicubic2d_aa`, clamps to [0, 255] and rounds half to even back to uint8.
 *
 * ATen's separable kernel has Pillow's geometry (support scaled by the downscale factor, window
 * `[trunc(c − support + 0.5), trunc(c + support + 0.5))` around `c = scale·(i + 0.5)`, weights
 * renormalised inside the image) but computes in float32 and does NOT round between the
 * horizontal and the vertical pass, so it differs from Pillow by up to ~11/255 on small images.
 * Every float32 step of `_compute_indices_min_size_weights_aa` and of the accumulation loop is
 * reproduced with `Math.fround`, including its mixed float/double promotions.
 */

/** The resampling filters ATen antialiases: bilinear (2) and bicubic (3), by PIL's numbers. */
export type TorchAntialiasFilter = 2 | 3;

const f32 = Math.fround;
const KEYS_A = f32(-0.5);

/** `HelperInterpCubic::aa_filter<float>`: Keys' cubic, a = −0.5, every operation in float32. */
function cubicAa(xIn: number): number {
  const x = Math.abs(xIn);
  const a = KEYS_A;
  if (x < 1) return f32(f32(f32(f32(f32(f32(a + 2) * x) - f32(a + 3)) * x) * x) + 1);
  if (x < 2) return f32(f32(f32(f32(f32(f32(a * x) - f32(5 * a)) * x) + f32(8 * a)) * x) - f32(4 * a));
  return 0;
}

/** `HelperInterpLinear::aa_filter<float>`: the triangle. */
function linearAa(xIn: number): number {
  const x = Math.abs(xIn);
  return x < 1 ? f32(1 - x) : 0;
}

const FILTERS: Record<TorchAntialiasFilter, { interpSize: number; fn: (x: number) => number }> = {
  2: { interpSize: 2, fn: linearAa },
  3: { interpSize: 4, fn: cubicAa },
};

interface AxisWeights {
  start: Int32Array;
  length: Int32Array;
  /** `out × kernelSize` float32 weights. */
  weights: Float32Array;
  kernelSize: number;
}

function axisWeights(inSize: number, outSize: number, filter: TorchAntialiasFilter): AxisWeights {
  const { interpSize, fn } = FILTERS[filter];
  // area_pixel_compute_scale<float>(in, out, align_corners = false), no scale factor given.
  const scale = f32(inSize / outSize);
  // (interp_size * 0.5) * scale is a double product, stored as float.
  const support = scale >= 1 ? f32(interpSize * 0.5 * scale) : f32(interpSize * 0.5);
  const invScale = scale >= 1 ? f32(1 / scale) : 1;
  const kernelSize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const length = new Int32Array(outSize);
  const weights = new Float32Array(outSize * kernelSize);
  for (let i = 0; i < outSize; i++) {
    // float · double → double, stored as float.
    const centre = f32(scale * (i + 0.5));
    // (float − float) + double, truncated toward zero by the int64 cast.
    const lo = Math.max(Math.trunc(f32(centre - support) + 0.5), 0);
    const hi = Math.min(Math.trunc(f32(centre + support) + 0.5), inSize);
    const n = Math.min(Math.max(hi - lo, 0), kernelSize);
    let total = 0;
    for (let j = 0; j < n; j++) {
      // (int64 − float) is float; + 0.5 and · invscale are double; the filter takes a float.
      const w = fn(f32((f32(j + lo - centre) + 0.5) * invScale));
      weights[i * kernelSize + j] = w;
      total = f32(total + w);
    }
    if (total !== 0) for (let j = 0; j < n; j++) weights[i * kernelSize + j] = f32(weights[i * kernelSize + j]! / total);
    start[i] = lo;
    length[i] = n;
  }
  return { start, length, weights, kernelSize };
}

/** One pass along an axis of a planar float32 image: `stride` between taps, `lines × along` outputs. */
function resamplePass(src: Float32Array, dst: Float32Array, c: AxisWeights, outAlong: number, lines: number, srcLineStride: number, srcTapStride: number, dstLineStride: number, dstAlongStride: number): void {
  for (let line = 0; line < lines; line++) {
    const srcLine = line * srcLineStride;
    for (let i = 0; i < outAlong; i++) {
      const lo = c.start[i]!;
      const n = c.length[i]!;
      const base = i * c.kernelSize;
      let acc = 0;
      for (let j = 0; j < n; j++) {
        const v = src[srcLine + (lo + j) * srcTapStride]!;
        acc = j === 0 ? f32(v * c.weights[base]!) : f32(acc + f32(v * c.weights[base + j]!));
      }
      dst[line * dstLineStride + i * dstAlongStride] = acc;
    }
  }
}

/** Round half to even (`torch.round`). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Resizes an interleaved uint8 image to `outWidth × outHeight` as torchvision's antialiased
 * float resize does (width first, then height), returning uint8 after clamp and round-half-even.
 */
export function torchAntialiasedResize(image: Uint8Image, outWidth: number, outHeight: number, filter: TorchAntialiasFilter = 3): Uint8Image {
  const { width, height, channels } = image;
  if (!FILTERS[filter]) throw new Error(`torchAntialiasedResize: resample ${filter} has no antialiased torch kernel (supported: 2 = bilinear, 3 = bicubic)`);
  if (!(Number.isInteger(outWidth) && Number.isInteger(outHeight) && outWidth >= 1 && outHeight >= 1)) {
    throw new Error(`torchAntialiasedResize: output size must be positive integers, got ${outWidth}x${outHeight}`);
  }
  if (image.data.length !== width * height * channels) throw new Error(`torchAntialiasedResize: ${width}x${height}x${channels} image needs ${width * height * channels} bytes, got ${image.data.length}`);
  const horizontal = axisWeights(width, outWidth, filter);
  const vertical = axisWeights(height, outHeight, filter);
  const out = new Uint8Array(outWidth * outHeight * channels);
  const plane = new Float32Array(width * height);
  const mid = new Float32Array(outWidth * height);
  const result = new Float32Array(outWidth * outHeight);
  for (let ch = 0; ch < channels; ch++) {
    for (let p = 0; p < width * height; p++) plane[p] = image.data[p * channels + ch]!;
    // Horizontal: each row's taps are adjacent. Vertical: taps one row apart.
    resamplePass(plane, mid, horizontal, outWidth, height, width, 1, outWidth, 1);
    resamplePass(mid, result, vertical, outHeight, outWidth, 1, outWidth, 1, outWidth);
    for (let p = 0; p < outWidth * outHeight; p++) out[p * channels + ch] = roundHalfEven(Math.min(255, Math.max(0, result[p]!)));
  }
  return { data: out, width: outWidth, height: outHeight, channels };
}
