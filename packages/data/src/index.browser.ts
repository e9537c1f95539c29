/**
 * @srdiff/data in a browser (the `browser` condition of its `exports`): pixels of a canvas ↔ the
 * networks' tensors (converted exactly as `readImage` / `writeImage` do in Node), the synthetic
 * degradations and the patch augmentation. Left out: everything on files and folders (decoding
 * with sharp, datasets, loaders, the bundled photos), which needs Node.js.
 */
export { DatasetError, type DatasetProblem } from './errors';
export { rawToFloat } from './io/pixels';
export { imageDataToTensor, tensorToImageData, type ImageDataLike } from './io/image-data';
export { hostToTensor, tensorToHost, batchToTensors } from './io/host-tensors';
export { drawPlacement, extractPatch, type PatchPlacement, type AugmentOptions } from './dataset/augment';
export { degrade, DEGRADATION_TASKS, type DegradationTask, type DegradationOptions } from './degrade/index';
export { addHaze, type HazeOptions } from './degrade/haze';
export { addRain, type RainOptions } from './degrade/rain';
export { addMotionBlur, cameraShakeKernel, type MotionBlurOptions, type BlurKernel } from './degrade/motion-blur';
export { makeLowLight, poisson, type LowLightOptions } from './degrade/low-light';
export type { Degraded, Range } from './degrade/common';
