/**
 * @srdiff/data — everything between image files on disk and batches of tensors: dataset layout
 * discovery and pairing, image IO (sharp), training patches with augmentation, prefetching batch
 * loaders with resumable positions, synthetic degradations and a bundled set of clean photos.
 */
export { DatasetError, type DatasetProblem } from './errors';

export { IMAGE_EXTENSIONS, isImageFile } from './io/formats';
export {
  readImage,
  readRawImage,
  readImageInfo,
  rawToFloat,
  type DecodeOptions,
  type DecodedImage,
  type RawImage,
  type ImageInfo,
} from './io/decode';
export { writeImage, encodeImage, type WritableImage } from './io/write';
export { readImageTensor, hostToTensor, tensorToHost, batchToTensors } from './io/tensor';
export { imageDataToTensor, tensorToImageData, type ImageDataLike } from './io/image-data';

export {
  discoverDataset,
  listImageFiles,
  DEFAULT_HINTS,
  STANDARD_TASKS,
  EMBEDDING_FOLDERS,
  type Phase,
  type EmbeddingChoice,
  type ImagePair,
  type SkippedPair,
  type DatasetIndex,
  type DatasetSource,
  type LayoutSource,
  type FolderSource,
  type DiscoverOptions,
  type OptionHints,
  type ListedImage,
} from './dataset/discover';
export { drawPlacement, extractPatch, type PatchPlacement, type AugmentOptions } from './dataset/augment';
export { PairedDataset, type PairedDatasetOptions, type TrainSample, type WholeSample } from './dataset/paired-dataset';
export { TrainBatchLoader, wholeImages, mixSeed, type TrainLoaderOptions, type LoaderState, type TrainBatch, type SkippedSamples } from './dataset/loader';

export { degrade, DEGRADATION_TASKS, type DegradationTask, type DegradationOptions } from './degrade/index';
export { addHaze, type HazeOptions } from './degrade/haze';
export { addRain, type RainOptions } from './degrade/rain';
export { addMotionBlur, cameraShakeKernel, type MotionBlurOptions, type BlurKernel } from './degrade/motion-blur';
export { makeLowLight, poisson, type LowLightOptions } from './degrade/low-light';
export type { Degraded, Range } from './degrade/common';
export { buildDegradedDataset, type BuildDatasetOptions, type BuiltDataset, type PsnrStats } from './degrade/build-dataset';

export { bundledCleanImagesDir } from './assets';
