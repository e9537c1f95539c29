/**
 * @srdiff/vlm — SR-Diff's first stage: one semantic embedding per image from a pre-trained
 * vision-language model (CLIP through transformers.js), cached as `.npy` files beside the dataset.
 */
export { createClipExtractor, ClipExtractor, type ClipModelOutputs } from './clip/clip-extractor';
export { ModelNotFoundError } from './clip/model-location';
export type { ImageEmbedder, RgbImage } from './embedder';
export { l2Normalize } from './embedder';
export { extractEmbeddings } from './extract/extract-embeddings';
export { extractFolder, embeddingFileName, listImageFiles, type ExtractFolderResult } from './extract/extract-folder';
export { ManifestMismatchError, readManifest, MANIFEST_FILE, type EmbeddingManifest } from './extract/manifest';
export {
  assertOneEmbeddingOrigin,
  describeOrigin,
  originOf,
  sameOrigin,
  MixedEmbeddingsError,
  type EmbeddingOrigin,
} from './extract/embedding-origin';
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
export { createImageEmbedder, type ImageEmbedderOptions, type AnyImageEmbedder } from './create-image-embedder';
export { detectVlmFamily, VLM_MODEL_TYPES, type VlmFamily, type VlmFamilyDetection } from './vlm-family';
export { createBlipEmbedder, BlipEmbedder, BLIP_OUTPUT } from './blip/blip-embedder';
export { urlFileSource, memoryFileSource, type ModelFileSource } from './web/model-file-source';
export { createWebClipEmbedder, WebClipEmbedder, type WebClipEmbedderOptions } from './web/web-clip-embedder';
export { createWebBlipEmbedder, WebBlipEmbedder, type WebBlipEmbedderOptions } from './web/web-blip-embedder';
export { rgbFromImageData } from './web/rgb-image';
export { BLIP_DEFAULTS, DEFAULT_BLIP_MODEL, type BlipEmbedderOptions } from './blip/blip-options';
export {
  resolveBlipConfig,
  BlipConfigError,
  BLIP_VISION_DEFAULTS,
  BLIP_TEXT_DEFAULTS,
  BLIP_TOP_DEFAULTS,
  type BlipConfig,
  type BlipVisionConfig,
  type BlipTextConfig,
} from './blip/blip-config';
export { buildBlipGraph, BLIP_ONNX_IO, BLIP_ONNX_OPSET, type BlipGraphOptions } from './blip/blip-graph';
export { BlipOnnxModel, type BlipRunOutputs, type BlipOnnxModelOptions } from './blip/blip-onnx-model';
export { BlipWeightsError } from './blip/weight-source';
export { randomBlipStateDict } from './blip/random-blip-weights';
export { resolveClsTokenId, type TokenizerFiles } from './blip/cls-token';
export { readBlipCheckpoint, BLIP_WEIGHT_FILES, type BlipCheckpoint } from './blip/blip-files';
export { ModelFiles, defaultModelCacheDir, type ModelFilesOptions } from './hub/model-files';
export { resolveModelSource, ModelSourceError, type ModelSource } from './hub/model-source';
export {
  blipPixelValues,
  blipResize,
  parseBlipPreprocessConfig,
  BLIP_PREPROCESS_DEFAULTS,
  type BlipPreprocessConfig,
  type BlipPreprocessing,
} from './preprocess/blip-image-processor';
export { torchAntialiasedResize, type TorchAntialiasFilter } from './preprocess/torch-resample';
export { verifyBlipReference, BLIP_TOLERANCES } from './verify/verify-blip-reference';
export { verifyClipReference, CLIP_TOLERANCES, type VerifyRow, type VerifyClipOptions } from './verify/verify-clip-reference';
