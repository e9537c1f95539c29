/**
 * @srdiff/metrics in a browser (the `browser` condition of its `exports`): the metrics, without the
 * reference-folder check and its sharp decoder.
 *
 * @srdiff/metrics — PSNR and SSIM (RGB and Y) exactly as SR-Diff's `test.py` computes them, on
 * plain host arrays (no tensor library needed), plus the reference-folder parity check.
 */
export {
  tensor2img,
  toUint8Image,
  splitBatch,
  type PixelData,
  type PixelImage,
  type Uint8Image,
  type ImageSource,
  type TensorLike,
  type HostTensorLike,
} from './image';
export {
  psnr,
  ssim,
  evaluatePair,
  evaluateMany,
  evaluateBatch,
  summarizeMetrics,
  TEST_PY_CROP_BORDER,
  type MetricOptions,
  type PairMetrics,
  type MetricRow,
  type MetricSummary,
  type EvaluationPair,
} from './evaluate';
