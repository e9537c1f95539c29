import { createBlipEmbedder, type BlipEmbedder } from './blip/blip-embedder';
import type { BlipEmbedderOptions } from './blip/blip-options';
import { createClipExtractor, type ClipExtractor } from './clip/clip-extractor';
import type { ClipExtractorOptions } from './options';
import { detectVlmFamily, type VlmFamily } from './vlm-family';

/** Options every family takes, plus each family's own under `clip` / `blip`. */
export interface ImageEmbedderOptions {
  /** Allow downloads from the Hugging Face Hub (default true). */
  allowRemote?: boolean;
  /** Hub download cache. */
  cacheDir?: string;
  /** Hub revision (default main). */
  revision?: string;
  /** L2-normalise each embedding (default false). */
  normalize?: boolean;
  /** Skip detection: the model is this family. */
  family?: VlmFamily;
  /** Settings used only when the model is a CLIP (`output`, `preprocessing`, `quantized`, …). */
  clip?: Omit<ClipExtractorOptions, 'model' | 'allowRemote' | 'cacheDir' | 'revision' | 'normalize'>;
  /** Settings used only when the model is a BLIP (`preprocessing`, `threads`, …). */
  blip?: Omit<BlipEmbedderOptions, 'model' | 'allowRemote' | 'cacheDir' | 'revision' | 'normalize'>;
  /** Hears which family was picked and why. */
  onDetect?: (family: VlmFamily, reason: string) => void;
}

/** Either embedder; both have `extract`, `extractFolder`, `width`, `family`. */
export type AnyImageEmbedder = ClipExtractor | BlipEmbedder;

/**
 * Loads a CLIP or a BLIP from a hub id or a local folder, picked by its `config.json`
 * `model_type` (`clip*` → {@link createClipExtractor}, `blip` → {@link createBlipEmbedder}).
 */
export async function createImageEmbedder(idOrPath: string, options: ImageEmbedderOptions = {}): Promise<AnyImageEmbedder> {
  const common = {
    ...(options.allowRemote !== undefined ? { allowRemote: options.allowRemote } : {}),
    ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
    ...(options.revision !== undefined ? { revision: options.revision } : {}),
    ...(options.normalize !== undefined ? { normalize: options.normalize } : {}),
  };
  const detected = options.family
    ? { family: options.family, reason: 'given' }
    : await detectVlmFamily(idOrPath, { allowRemote: options.allowRemote, cacheDir: options.cacheDir, revision: options.revision });
  options.onDetect?.(detected.family, detected.reason);
  if (detected.family === 'blip') return createBlipEmbedder({ ...options.blip, ...common, model: idOrPath });
  return createClipExtractor({ ...options.clip, ...common, model: idOrPath });
}
