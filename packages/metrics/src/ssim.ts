import { Accumulator, type Planes } from './planes';

const WINDOW_SIZE = 11;
const WINDOW_SIGMA = 1.5;
const C1 = (0.01 * 255) ** 2;
const C2 = (0.03 * 255) ** 2;

/** `cv2.getGaussianKernel(11, 1.5)` in float64: exp(-x²/(2σ²)) for x = -5..5, normalised to sum 1. */
function gaussianKernel(size: number, sigma: number): Float64Array {
  const k = new Float64Array(size);
  const scale = -0.5 / (sigma * sigma);
  let sum = 0;
  for (let i = 0; i < size; i++) {
    const x = i - (size - 1) * 0.5;
    k[i] = Math.exp(scale * x * x);
    sum += k[i]!;
  }
  for (let i = 0; i < size; i++) k[i]! /= sum;
  return k;
}

const KERNEL = gaussianKernel(WINDOW_SIZE, WINDOW_SIGMA);

/**
 * Valid 11×11 correlation with the outer-product Gaussian window: the original's
 * `cv2.filter2D(img, -1, window)[5:-5, 5:-5]` (the border mode never reaches the kept region).
 * Done separably (rows, then columns); the window is symmetric, so this is the same sum.
 */
function filterValid(src: Float64Array, width: number, height: number): Float64Array {
  const k = KERNEL;
  const ow = width - WINDOW_SIZE + 1;
  const oh = height - WINDOW_SIZE + 1;
  const rows = new Float64Array(height * ow);
  for (let y = 0; y < height; y++) {
    const base = y * width;
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let j = 0; j < WINDOW_SIZE; j++) s += k[j]! * src[base + x + j]!;
      rows[y * ow + x] = s;
    }
  }
  const out = new Float64Array(oh * ow);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let i = 0; i < WINDOW_SIZE; i++) s += k[i]! * rows[(y + i) * ow + x]!;
      out[y * ow + x] = s;
    }
  }
  return out;
}

/** Sum of the SSIM map of one channel (the original's `ssim(img1, img2)` before its `.mean()`). */
function ssimMapSum(a: Float64Array, b: Float64Array, width: number, height: number, acc: Accumulator): number {
  const n = a.length;
  const aa = new Float64Array(n);
  const bb = new Float64Array(n);
  const ab = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    aa[i] = a[i]! * a[i]!;
    bb[i] = b[i]! * b[i]!;
    ab[i] = a[i]! * b[i]!;
  }
  const mu1 = filterValid(a, width, height);
  const mu2 = filterValid(b, width, height);
  const e11 = filterValid(aa, width, height);
  const e22 = filterValid(bb, width, height);
  const e12 = filterValid(ab, width, height);
  for (let i = 0; i < mu1.length; i++) {
    const m1 = mu1[i]!;
    const m2 = mu2[i]!;
    const m1sq = m1 * m1;
    const m2sq = m2 * m2;
    const m12 = m1 * m2;
    const s1 = e11[i]! - m1sq;
    const s2 = e22[i]! - m2sq;
    const s12 = e12[i]! - m12;
    acc.add(((2 * m12 + C1) * (2 * s12 + C2)) / ((m1sq + m2sq + C1) * (s1 + s2 + C2)));
  }
  return mu1.length;
}

/**
 * SSIM as the original `calculate_ssim` (Wang et al. 2004 with an 11×11 Gaussian, σ 1.5,
 * C1 = (0.01·255)², C2 = (0.03·255)², valid region only). For three channels the original's loop
 * calls `ssim` on the whole H×W×3 image three times; `cv2.filter2D` filters channels independently,
 * so that is the mean of the SSIM map over all pixels and channels — computed here as such.
 */
export function ssimOfPlanes(a: Planes, b: Planes): number {
  if (a.width < WINDOW_SIZE || a.height < WINDOW_SIZE) {
    throw new Error(`ssim: needs at least ${WINDOW_SIZE}×${WINDOW_SIZE} pixels after cropping, got ${a.height}×${a.width}`);
  }
  const acc = new Accumulator();
  let count = 0;
  for (let c = 0; c < a.planes.length; c++) count += ssimMapSum(a.planes[c]!, b.planes[c]!, a.width, a.height, acc);
  return acc.value() / count;
}
