/**
 * Every option of the package with its default, in one place, validated at the edge.
 */

/** Which vector the CLIP extractor returns per image. */
export type ClipOutput = 'image_embeds' | 'pooled';

/**
 * How images become `pixel_values`:
 * - `'python'`: Hugging Face's Python CLIP processor reproduced exactly (Pillow's antialiased,
 *   centre-aligned resampling on uint8, HF's centre crop, float32 normalisation). Embeddings are
 *   interchangeable with the Python tooling. The default.
 * - `'transformers-js'`: transformers.js's own processor (sharp affine bicubic, no antialiasing).
 *   Identical for images that need no resize; differs otherwise (see the README).
 */
export type PreprocessingMode = 'python' | 'transformers-js';

export interface ClipExtractorOptions {
  /** Hub id (`Xenova/clip-vit-base-patch32`) or a local folder in the transformers.js layout. */
  model?: string;
  /** `'image_embeds'` (projected, CLIP's joint space) or `'pooled'` (post-LayerNorm vision CLS, before projection). */
  output?: ClipOutput;
  /** L2-normalise each embedding. */
  normalize?: boolean;
  preprocessing?: PreprocessingMode;
  /** Load `onnx/vision_model_quantized.onnx` (8-bit) instead of the fp32 `onnx/vision_model.onnx`. */
  quantized?: boolean;
  /** Hub revision (branch, tag or commit). */
  revision?: string;
  /** Where downloaded hub files are cached (transformers.js's default: inside its package folder). */
  cacheDir?: string;
  /** A folder holding models as `<localModelPath>/<hub id>/…`, searched before the cache and the Hub. */
  localModelPath?: string;
  /** Allow downloads from the Hugging Face Hub. Local folders never download. */
  allowRemote?: boolean;
}

export type ResolvedClipOptions = Required<Omit<ClipExtractorOptions, 'cacheDir' | 'localModelPath'>> & Pick<ClipExtractorOptions, 'cacheDir' | 'localModelPath'>;

export const DEFAULT_CLIP_MODEL = 'Xenova/clip-vit-base-patch32';

export const CLIP_DEFAULTS: ResolvedClipOptions = {
  model: DEFAULT_CLIP_MODEL,
  output: 'image_embeds',
  normalize: false,
  preprocessing: 'python',
  // fp32 by default: the quantized graph's embeddings are not interchangeable with Python's.
  quantized: false,
  revision: 'main',
  allowRemote: true,
};

function oneOf<T extends string>(value: unknown, allowed: readonly T[], key: string): T {
  if (!allowed.includes(value as T)) throw new Error(`@srdiff/vlm: option '${key}' must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(value)}`);
  return value as T;
}

function bool(value: unknown, key: string): boolean {
  if (typeof value !== 'boolean') throw new Error(`@srdiff/vlm: option '${key}' must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

function text(value: unknown, key: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new Error(`@srdiff/vlm: option '${key}' must be a non-empty string, got ${JSON.stringify(value)}`);
  return value;
}

export function resolveClipOptions(options: ClipExtractorOptions = {}): ResolvedClipOptions {
  const o = { ...CLIP_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  const known = new Set([...Object.keys(CLIP_DEFAULTS), 'cacheDir', 'localModelPath']);
  const unknown = Object.keys(options).filter((k) => !known.has(k));
  if (unknown.length) throw new Error(`@srdiff/vlm: unknown option(s) ${unknown.join(', ')} (known: ${[...known].join(', ')})`);
  return {
    model: text(o.model, 'model'),
    output: oneOf(o.output, ['image_embeds', 'pooled'] as const, 'output'),
    normalize: bool(o.normalize, 'normalize'),
    preprocessing: oneOf(o.preprocessing, ['python', 'transformers-js'] as const, 'preprocessing'),
    quantized: bool(o.quantized, 'quantized'),
    revision: text(o.revision, 'revision'),
    allowRemote: bool(o.allowRemote, 'allowRemote'),
    cacheDir: o.cacheDir === undefined ? undefined : text(o.cacheDir, 'cacheDir'),
    localModelPath: o.localModelPath === undefined ? undefined : text(o.localModelPath, 'localModelPath'),
  };
}

/** What to do when an image cannot be decoded. */
export type OnImageError = 'stop' | 'skip';

export interface ExtractOptions {
  /** Images per model call. */
  batchSize?: number;
  /** `'stop'` throws on the first undecodable image (naming it); `'skip'` reports it and goes on. */
  onError?: OnImageError;
  /** Called after each batch. */
  onProgress?: (progress: ExtractProgress) => void;
  /** Called for each image skipped under `onError: 'skip'`. */
  onSkip?: (failure: ExtractFailure) => void;
  signal?: AbortSignal;
}

export interface ExtractProgress {
  /** Images handled so far (embedded, skipped as existing, or failed). */
  done: number;
  total: number;
  /** Embedded in this run. */
  embedded: number;
  failed: number;
}

export interface ExtractFailure {
  index: number;
  /** The file path, or a description of the in-memory input. */
  source: string;
  error: Error;
}

export interface ExtractFolderOptions extends ExtractOptions {
  /** Leave images whose `.npy` already exists (resume). With false every image is recomputed. */
  skipExisting?: boolean;
  /** Replace a cache written by another model / settings instead of refusing. */
  overwrite?: boolean;
  /** File extensions (lower case, with dot) taken as images. */
  extensions?: readonly string[];
  /**
   * The images to embed, as paths relative to the image folder (`/`-separated, sub-folders allowed:
   * `sub/0001.png` → `<out>/sub/0001.npy`) — e.g. the pairs a dataset discovery found. Default:
   * every image under the folder, recursively.
   */
  images?: readonly string[];
}

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff', '.gif', '.avif'] as const;

export const EXTRACT_DEFAULTS = {
  batchSize: 16,
  onError: 'stop' as OnImageError,
  skipExisting: true,
  overwrite: false,
  extensions: IMAGE_EXTENSIONS as readonly string[],
};

export function resolveBatchSize(value: unknown): number {
  const v = value ?? EXTRACT_DEFAULTS.batchSize;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`@srdiff/vlm: batchSize must be a positive integer, got ${JSON.stringify(value)}`);
  return v;
}

export function resolveOnError(value: unknown): OnImageError {
  return oneOf(value ?? EXTRACT_DEFAULTS.onError, ['stop', 'skip'] as const, 'onError');
}
