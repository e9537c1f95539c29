import type { TensorDict } from '@srdiff/core';
import type { PairedDataset } from '@srdiff/data';
import type { IRSDE } from '@srdiff/sde';
import type { UNetConfig } from '@srdiff/unet';
import type { TrainOptions } from '../options/train-options';
import { createEngine } from '../restore/engine';
import { evaluateDataset, type DatasetEvaluation } from '../restore/evaluate-dataset';

export interface ValidationResult extends DatasetEvaluation {
  engine: 'onnx' | 'tfjs';
}

/**
 * Validation as the trainer runs it every `val_freq` steps: the EMA weights restore every val
 * image (single sample, `sde.sampling_mode`, `sde.sample_T` steps when set) and PSNR/SSIM are
 * measured against the GT, beside the LQ baseline.
 */
export async function validate(
  val: PairedDataset,
  /** The EMA weights (PyTorch layout), from either training engine. */
  emaWeights: TensorDict,
  config: UNetConfig,
  sde: IRSDE,
  options: TrainOptions,
  run: { step: number; outDir?: string; signal?: AbortSignal; log?: (message: string) => void },
): Promise<ValidationResult> {
  const engine = await createEngine(options.engine, emaWeights, config, { providers: options.train.providers });
  try {
    const sampler = options.sde.sample_T ? sde.withSampleSteps(options.sde.sample_T) : sde;
    const result = await evaluateDataset(val, {
      sde: sampler,
      engine,
      method: options.sde.sampling_mode,
      seed: options.train.manual_seed + run.step,
      outDir: run.outDir,
      maxImages: options.datasets.val.max_images ?? undefined,
      signal: run.signal,
      onSkip: options.datasets.val.on_error === 'skip'
        ? (pair, err) => run.log?.(`warning: validation skips ${pair.lq} (${err.message}); datasets.val.on_error: skip`)
        : undefined,
    });
    return { ...result, engine: engine.name };
  } finally {
    await engine.dispose();
  }
}
