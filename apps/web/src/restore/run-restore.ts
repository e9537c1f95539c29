import { restoreImage } from '@srdiff/sde';
import { imageDataToTensor, tensorToImageData } from '@srdiff/data';
import { rgbFromImageData } from '@srdiff/vlm';
import type { LoadedModel } from '../model/load-model';
import type { Pixels, RestoreSettings } from './protocol';

export interface RestoreOutcome {
  image: Pixels;
  /** The restored image before 8-bit quantisation, `[1, H, W, 3]` in [0, 1] (what Node's restoreImage returns). */
  values: Float32Array;
  ms: number;
  msPerStep: number;
}

/**
 * Restores RGBA pixels as `srdiff restore` restores an image file: the same conversion to float
 * (`imageDataToTensor` = readImage's), the same context (VLM → SRM), the same `restoreImage` of
 * @srdiff/sde (seed per tile, tiles, clamp) and the same 8-bit quantisation (`tensor2img`).
 */
export async function runRestore(
  model: LoadedModel,
  pixels: Pixels,
  settings: RestoreSettings,
  onProgress: (p: { step: number; steps: number; tile: number; tiles: number }) => void,
  signal: AbortSignal,
): Promise<RestoreOutcome> {
  const start = performance.now();
  const lq = imageDataToTensor(pixels);
  const context = await model.context(rgbFromImageData(pixels));
  const sde = model.sde(settings.steps);
  let stepsRun = 0;
  const restored = await restoreImage(lq, context, sde, model.denoiser, {
    method: settings.sampler,
    seed: settings.seed,
    tile: settings.tile,
    overlap: settings.overlap,
    signal,
    onStep: async (_done, _total, where) => {
      stepsRun++;
      onProgress(where);
      // A macrotask turn between steps, so a cancel message reaches the worker mid-restoration.
      await new Promise((resolve) => setTimeout(resolve, 0));
    },
  });
  const ms = performance.now() - start;
  const image = tensorToImageData(restored);
  return { image, values: restored.data, ms, msPerStep: ms / Math.max(1, stepsRun) };
}
