import type { Uint8Image } from './preprocess/pil-resample';

/** A decoded image: interleaved 8-bit RGB (`channels` is 3). */
export type RgbImage = Uint8Image;

/**
 * A model that turns images into one vector each. CLIP implements it; another vision-language
 * model (BLIP, as in the original SR-Diff, or SigLIP) can be added behind the same interface, and
 * `extractEmbeddings` / `extractFolder` work with any of them.
 */
export interface ImageEmbedder {
  /** Which kind of model made the vectors (`'clip'`, `'blip'`), recorded in caches when known. */
  readonly family?: string;
  /** Model identity recorded in caches: a hub id or a local folder's absolute path. */
  readonly id: string;
  /** Hub revision, or null for a local folder. */
  readonly revision: string | null;
  /** Length of every embedding. */
  readonly width: number;
  /** Which vector of the model is returned (e.g. CLIP's `'image_embeds'` or `'pooled'`). */
  readonly output: string;
  readonly normalize: boolean;
  /** How images are preprocessed (caches made with different preprocessing are not mixed). */
  readonly preprocessing: string;
  /** Extra settings that change the vectors (e.g. quantization), recorded in caches. */
  readonly settings: Readonly<Record<string, string | number | boolean>>;
  /** Embeds one batch of decoded images (batching and error policy are the caller's). */
  embed(batch: readonly RgbImage[]): Promise<Float32Array[]>;
  /** Releases the model (ONNX Runtime sessions). */
  dispose(): Promise<void>;
}

/** Scales `v` to unit L2 norm in place (a zero vector stays zero). */
export function l2Normalize(v: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!;
  const norm = Math.sqrt(sum);
  if (norm > 0) for (let i = 0; i < v.length; i++) v[i] = v[i]! / norm;
  return v;
}
