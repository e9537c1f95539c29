import type { OrtExecutionProvider } from '@srdiff/core';
import type { BlipPreprocessing } from '../preprocess/blip-image-processor';

/** The hub id of the paper's VLM (the original's `BLIPFeatureExtractor` loads this checkpoint). */
export const DEFAULT_BLIP_MODEL = 'Salesforce/blip-image-captioning-base';

export interface BlipEmbedderOptions {
  /** Hub id (`Salesforce/blip-image-captioning-base`, `…-large`) or a local folder in the `save_pretrained` layout. */
  model?: string;
  /** `'slow'`: `BlipImageProcessor` (Pillow), bit-exact; `'fast'`: `BlipImageProcessorFast` with torchvision < 0.16. */
  preprocessing?: BlipPreprocessing;
  /** L2-normalise each embedding (the original does not). */
  normalize?: boolean;
  /** Hub revision (branch, tag or commit). */
  revision?: string;
  /** Download cache (`<cacheDir>/<id>/<file>`, transformers.js's layout); default `$SRDIFF_MODEL_CACHE` or `~/.cache/srdiff/models`. */
  cacheDir?: string;
  /** A folder of models laid out as `<localModelPath>/<hub id>/…`, searched after the cache. */
  localModelPath?: string;
  /** Allow downloads from the Hugging Face Hub. Local folders never download. */
  allowRemote?: boolean;
  /** ONNX Runtime intra-op threads (default: one per core). */
  threads?: number;
  /** ONNX Runtime execution providers in order of preference (default `['cpu']`). */
  executionProviders?: OrtExecutionProvider[];
  /** Also compute the vision `last_hidden_state` and per-layer decoder states (`run` returns them). For parity checks. */
  debugOutputs?: boolean;
}

export type ResolvedBlipOptions = Required<Pick<BlipEmbedderOptions, 'model' | 'preprocessing' | 'normalize' | 'revision' | 'allowRemote' | 'debugOutputs'>> &
  Pick<BlipEmbedderOptions, 'cacheDir' | 'localModelPath' | 'threads' | 'executionProviders'>;

export const BLIP_DEFAULTS = {
  model: DEFAULT_BLIP_MODEL,
  preprocessing: 'slow' as BlipPreprocessing,
  normalize: false,
  revision: 'main',
  allowRemote: true,
  debugOutputs: false,
};

const KNOWN = new Set([...Object.keys(BLIP_DEFAULTS), 'cacheDir', 'localModelPath', 'threads', 'executionProviders']);

function fail(key: string, want: string, got: unknown): never {
  throw new Error(`@srdiff/vlm: BLIP option '${key}' must be ${want}, got ${JSON.stringify(got)}`);
}

export function resolveBlipOptions(options: BlipEmbedderOptions = {}): ResolvedBlipOptions {
  const unknown = Object.keys(options).filter((k) => !KNOWN.has(k));
  if (unknown.length) throw new Error(`@srdiff/vlm: unknown BLIP option(s) ${unknown.join(', ')} (known: ${[...KNOWN].join(', ')})`);
  const o = { ...BLIP_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as BlipEmbedderOptions & typeof BLIP_DEFAULTS;
  for (const key of ['model', 'revision'] as const) if (typeof o[key] !== 'string' || !o[key]) fail(key, 'a non-empty string', o[key]);
  for (const key of ['cacheDir', 'localModelPath'] as const) if (o[key] !== undefined && (typeof o[key] !== 'string' || !o[key])) fail(key, 'a non-empty string', o[key]);
  if (o.preprocessing !== 'slow' && o.preprocessing !== 'fast') fail('preprocessing', "'slow' or 'fast'", o.preprocessing);
  for (const key of ['normalize', 'allowRemote', 'debugOutputs'] as const) if (typeof o[key] !== 'boolean') fail(key, 'true or false', o[key]);
  if (o.threads !== undefined && !(Number.isInteger(o.threads) && o.threads >= 1)) fail('threads', 'a positive integer', o.threads);
  if (o.executionProviders !== undefined && !Array.isArray(o.executionProviders)) fail('executionProviders', 'an array', o.executionProviders);
  return o as ResolvedBlipOptions;
}
