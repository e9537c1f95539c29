/**
 * @srdiff/vlm in a browser (the `browser` condition of its `exports`): the paper's BLIP embedding
 * (the same graph, built from Hugging Face safetensors weights, on onnxruntime-web) and CLIP
 * through transformers.js, both with the Python-identical preprocessing, reading their files from a
 * URL or from files the user picked (`urlFileSource`, `memoryFileSource`). Left out: hub downloads
 * and caches on disk, folders of images, `.npy` caches, sharp decoding, the reference checks.
 */
export type { ImageEmbedder, RgbImage } from './embedder';
export { l2Normalize } from './embedder';
export { rgbFromImageData } from './web/rgb-image';
export { urlFileSource, memoryFileSource, type ModelFileSource } from './web/model-file-source';
export { createWebClipEmbedder, WebClipEmbedder, type WebClipEmbedderOptions } from './web/web-clip-embedder';
export { createWebBlipEmbedder, WebBlipEmbedder, type WebBlipEmbedderOptions } from './web/web-blip-embedder';
export { clipPixelValues, parseClipPreprocessConfig, type ClipPreprocessConfig } from './preprocess/clip-image-processor';
export { pilResize, type PilFilter, type Uint8Image } from './preprocess/pil-resample';
export { BLIP_OUTPUT } from './blip/blip-output';
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
export {
  blipPixelValues,
  blipResize,
  parseBlipPreprocessConfig,
  BLIP_PREPROCESS_DEFAULTS,
  type BlipPreprocessConfig,
  type BlipPreprocessing,
} from './preprocess/blip-image-processor';
export { torchAntialiasedResize, type TorchAntialiasFilter } from './preprocess/torch-resample';
