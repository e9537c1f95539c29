import { splitBatch, toUint8Image, type HostTensorLike, type ImageSource, type TensorLike, type Uint8Image } from './image';
import { channelPlanes, lumaPlane, type Planes } from './planes';
import { psnrOfPlanes } from './psnr';
import { ssimOfPlanes } from './ssim';

export interface MetricOptions {
  /** Pixels removed from every side before measuring (the original's `crop_border`). Default 0. */
  cropBorder?: number;
  /** Measure the BT.601 luma (`bgr2ycbcr(only_y=True)`) instead of the colour channels. Default false. */
  yChannel?: boolean;
}

/** test.py's default crop: `crop_border` falls back to `degradation.scale` = 4. */
export const TEST_PY_CROP_BORDER = 4;

export interface PairMetrics {
  psnr: number;
  ssim: number;
  /** PSNR of the luma; equals `psnr` for one-channel images (test.py converts only 3-channel ones). */
  psnrY: number;
  ssimY: number;
}

function pair(restored: ImageSource, gt: ImageSource): [Uint8Image, Uint8Image] {
  const a = toUint8Image(restored, 'restored');
  const b = toUint8Image(gt, 'gt');
  if (a.width !== b.width || a.height !== b.height || a.channels !== b.channels) {
    throw new Error(`Input images must have the same dimensions: restored ${a.height}×${a.width}×${a.channels}, gt ${b.height}×${b.width}×${b.channels}`);
  }
  return [a, b];
}

function planesOf(img: Uint8Image, crop: number, yChannel: boolean): Planes {
  return yChannel && img.channels === 3 ? lumaPlane(img, crop) : channelPlanes(img, crop);
}

/** PSNR in dB between two images ([0, 1] floats are quantised like `tensor2img` first). */
export function psnr(restored: ImageSource, gt: ImageSource, options: MetricOptions = {}): number {
  const [a, b] = pair(restored, gt);
  const crop = options.cropBorder ?? 0;
  return psnrOfPlanes(planesOf(a, crop, !!options.yChannel), planesOf(b, crop, !!options.yChannel));
}

/** SSIM between two images (see {@link ssimOfPlanes} for the exact definition). */
export function ssim(restored: ImageSource, gt: ImageSource, options: MetricOptions = {}): number {
  const [a, b] = pair(restored, gt);
  const crop = options.cropBorder ?? 0;
  return ssimOfPlanes(planesOf(a, crop, !!options.yChannel), planesOf(b, crop, !!options.yChannel));
}

/**
 * The metric block of the original `test.py` for one image: PSNR and SSIM on the colour channels
 * and on Y, after cropping `cropBorder` pixels (default {@link TEST_PY_CROP_BORDER} = 4, as test.py).
 */
export function evaluatePair(restored: ImageSource, gt: ImageSource, options: { cropBorder?: number } = {}): PairMetrics {
  const [a, b] = pair(restored, gt);
  const crop = options.cropBorder ?? TEST_PY_CROP_BORDER;
  const rgbA = channelPlanes(a, crop);
  const rgbB = channelPlanes(b, crop);
  const result: PairMetrics = { psnr: psnrOfPlanes(rgbA, rgbB), ssim: ssimOfPlanes(rgbA, rgbB), psnrY: 0, ssimY: 0 };
  if (a.channels === 3) {
    const yA = lumaPlane(a, crop);
    const yB = lumaPlane(b, crop);
    result.psnrY = psnrOfPlanes(yA, yB);
    result.ssimY = ssimOfPlanes(yA, yB);
  } else {
    result.psnrY = result.psnr;
    result.ssimY = result.ssim;
  }
  return result;
}

export interface MetricRow extends PairMetrics {
  name: string;
}

export interface MetricSummary {
  count: number;
  /** Arithmetic means over the rows, as test.py averages (an infinite PSNR makes the mean infinite). */
  mean: PairMetrics;
  rows: MetricRow[];
}

export interface EvaluationPair {
  name?: string;
  restored: ImageSource;
  gt: ImageSource;
}

/** Means of per-image rows. */
export function summarizeMetrics(rows: MetricRow[]): MetricSummary {
  const mean: PairMetrics = { psnr: NaN, ssim: NaN, psnrY: NaN, ssimY: NaN };
  if (rows.length > 0) {
    for (const key of ['psnr', 'ssim', 'psnrY', 'ssimY'] as const) mean[key] = rows.reduce((s, r) => s + r[key], 0) / rows.length;
  }
  return { count: rows.length, mean, rows };
}

/** {@link evaluatePair} over many pairs; returns per-image rows and their means. */
export function evaluateMany(pairs: Iterable<EvaluationPair>, options: { cropBorder?: number } = {}): MetricSummary {
  const rows: MetricRow[] = [];
  let i = 0;
  for (const p of pairs) {
    rows.push({ name: p.name ?? String(i), ...evaluatePair(p.restored, p.gt, options) });
    i++;
  }
  return summarizeMetrics(rows);
}

/**
 * Metrics of an NHWC batch (tfjs tensors, or `{ shape, data }` host tensors, values in [0, 1])
 * against its ground truth; `names` label the rows (default: the batch index).
 */
export function evaluateBatch(
  restored: TensorLike | HostTensorLike,
  gt: TensorLike | HostTensorLike,
  options: { cropBorder?: number; names?: string[] } = {},
): MetricSummary {
  const a = splitBatch(restored);
  const b = splitBatch(gt);
  if (a.length !== b.length) throw new Error(`evaluateBatch: restored has ${a.length} images, gt has ${b.length}`);
  if (options.names && options.names.length !== a.length) throw new Error(`evaluateBatch: ${options.names.length} names for ${a.length} images`);
  return evaluateMany(
    a.map((r, i) => ({ name: options.names?.[i] ?? String(i), restored: r, gt: b[i]! })),
    options,
  );
}
