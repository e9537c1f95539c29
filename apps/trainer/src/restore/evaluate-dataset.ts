import path from 'node:path';
import { evaluatePair, summarizeMetrics, TEST_PY_CROP_BORDER, type PairMetrics } from '@srdiff/metrics';
import { wholeImages, writeImage, type ImagePair, type PairedDataset } from '@srdiff/data';
import type { IRSDE, SamplerMethod } from '@srdiff/sde';
import type { RestoreEngine } from './engine';
import { restoreImage } from './restore-image';

export interface EvaluateDatasetOptions {
  sde: IRSDE;
  engine: RestoreEngine;
  method: SamplerMethod;
  seed: number;
  /**
   * Samples per image, keeping the one with the best PSNR against the GT — the original test.py's
   * protocol (10), which is optimistic: it uses the ground truth to choose. Default 1.
   */
  bestOf?: number;
  cropBorder?: number;
  /** Write restored images here (`<task>/<name>.png`). */
  outDir?: string;
  tile?: number;
  maxImages?: number;
  signal?: AbortSignal;
  onImage?: (done: number, total: number, row: EvaluationRow) => void;
  onStep?: (done: number, total: number) => void;
  /** When given, a pair that cannot be read is reported here and left out (else its error stops the evaluation). */
  onSkip?: (pair: ImagePair, error: Error) => void;
}

export interface EvaluationRow extends PairMetrics {
  name: string;
  task: string;
  /** The degraded input against the GT: the baseline restoration must beat. */
  lq: PairMetrics;
  file?: string;
}

export interface TaskSummary {
  count: number;
  mean: PairMetrics;
  lqMean: PairMetrics;
}

export interface DatasetEvaluation {
  rows: EvaluationRow[];
  mean: PairMetrics;
  lqMean: PairMetrics;
  byTask: Record<string, TaskSummary>;
  bestOf: number;
  seconds: number;
}

/**
 * Restores every image of a paired dataset and measures it as the original `test.py` does
 * (PSNR/SSIM on RGB and Y, `crop_border` 4 by default), beside the LQ-vs-GT baseline.
 */
export async function evaluateDataset(dataset: PairedDataset, options: EvaluateDatasetOptions): Promise<DatasetEvaluation> {
  const started = Date.now();
  const bestOf = options.bestOf ?? 1;
  const crop = options.cropBorder ?? TEST_PY_CROP_BORDER;
  const total = Math.min(dataset.length, options.maxImages ?? Infinity);
  const rows: EvaluationRow[] = [];
  let done = 0;
  for await (const sample of wholeImages(dataset, { signal: options.signal, onSkip: options.onSkip })) {
    if (done >= total) break;
    let best: { metrics: PairMetrics; image: { shape: number[]; data: Float32Array } } | undefined;
    for (let k = 0; k < bestOf; k++) {
      const restored = await restoreImage(sample.lq, sample.embedding?.data, options.sde, options.engine, {
        method: options.method,
        seed: options.seed + done * 1009 + k * 104729,
        tile: options.tile,
        signal: options.signal,
        onStep: options.onStep,
      }).catch((err: Error) => Promise.reject(options.signal?.aborted ? err : nameFile(err, sample.pair.lq)));
      const metrics = evaluatePair(restored, sample.gt, { cropBorder: crop });
      if (!best || metrics.psnr > best.metrics.psnr) best = { metrics, image: restored };
    }
    const row: EvaluationRow = { name: sample.pair.name, task: sample.pair.task, ...best!.metrics, lq: evaluatePair(sample.lq, sample.gt, { cropBorder: crop }) };
    if (options.outDir) {
      row.file = path.join(options.outDir, sample.pair.task, `${sample.pair.name}.png`);
      await writeImage(row.file, best!.image);
    }
    rows.push(row);
    done += 1;
    options.onImage?.(done, total, row);
  }
  const summary = (list: EvaluationRow[]): TaskSummary => ({
    count: list.length,
    mean: summarizeMetrics(list.map((r) => ({ name: r.name, psnr: r.psnr, ssim: r.ssim, psnrY: r.psnrY, ssimY: r.ssimY }))).mean,
    lqMean: summarizeMetrics(list.map((r) => ({ name: r.name, ...r.lq }))).mean,
  });
  const byTask: Record<string, TaskSummary> = {};
  for (const task of [...new Set(rows.map((r) => r.task))]) byTask[task] = summary(rows.filter((r) => r.task === task));
  const all = summary(rows);
  return { rows, mean: all.mean, lqMean: all.lqMean, byTask, bestOf, seconds: (Date.now() - started) / 1000 };
}

/** An error about an image, with its file named (the sampler's own messages do not know it). */
export function nameFile(err: Error, file: string): Error {
  if (err.message.includes(file)) return err;
  const named = new Error(`${file}: ${err.message}`);
  named.name = err.name;
  return named;
}
