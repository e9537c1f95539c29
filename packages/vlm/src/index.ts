/**
 * @srdiff/vlm — SR-Diff's first stage: one semantic embedding per image from a pre-trained
 * vision-language model (CLIP through transformers.js), cached as `.npy` files beside the dataset.
 */
export { createClipExtractor, ClipExtractor, type ClipModelOutputs } from './clip/clip-extractor';
export { ModelNotFoundError } from './clip/model-location';
export type { ImageEmbedder, RgbImage } from './embedder';
export { l2Normalize } from './embedder';
export { extractEmbeddings } from './extract/extract-embeddings';
export { extractFolder, embeddingFileName, type ExtractFolderResult } from './extract/extract-folder';
export { ManifestMismatchError, readManifest, MANIFEST_FILE, type EmbeddingManifest } from './extract/manifest';
export { decodeImage, tensorToImages, ImageDecodeError } from './image/decode-image';
export type { ImageSource, ImageBatch, NhwcTensor, RawPixels } from './image/image-source';
export {
  CLIP_DEFAULTS,
  DEFAULT_CLIP_MODEL,
  IMAGE_EXTENSIONS,
  type ClipExtractorOptions,
  type ClipOutput,
  type PreprocessingMode,
  type ExtractOptions,
  type ExtractFolderOptions,
  type ExtractProgress,
  type ExtractFailure,
  type OnImageError,
} from './options';
export { clipPixelValues, parseClipPreprocessConfig, type ClipPreprocessConfig } from './preprocess/clip-image-processor';
export { pilResize, type PilFilter, type Uint8Image } from './preprocess/pil-resample';
export { verifyClipReference, CLIP_TOLERANCES, type VerifyRow, type VerifyClipOptions } from './verify/verify-clip-reference';
