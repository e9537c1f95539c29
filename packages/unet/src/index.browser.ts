/**
 * @srdiff/unet in a browser (the `browser` condition of its `exports`): the network, its ONNX graph
 * built from weights, and OnnxUNet on onnxruntime-web (a model given by URL is fetched). Left out:
 * reading and writing weight files by path, cached exports on disk, the reference check, training.
 *
 * @srdiff/unet — SR-Diff's denoising network (the original `ConditionalUNet`) on TensorFlow.js,
 * loadable from the original PyTorch weights by name.
 */
export {
  UNET_DEFAULTS,
  SRDIFF_UNET_CONFIG,
  UNetConfigError,
  resolveUnetConfig,
  planLevels,
  describeConfig,
  type UNetConfig,
  type UNetOptions,
  type UNetPlan,
  type LevelPlan,
} from './config';
export { ConditionalUNet, type UNetForwardOptions } from './conditional-unet';
export { UNetInputError, type TimeInput } from './inputs';
export { inferUnetConfig } from './infer-config';
export { unetDenoiser, type UnetDenoiserOptions } from './denoiser';
export type { ActivationTrace } from './trace';
export { buildUnetGraph, emitUnetGraph, UNET_ONNX_IO, UNET_ONNX_OPSET, type UnetGraphOptions, type UnetGraph, type UnetGraphInputs } from './onnx/unet-graph';
export {
  unetToOnnxBytes,
  toOnnx,
  unetOnnxFingerprint,
  UNET_ONNX_EXPORTER_VERSION,
  UNET_ONNX_METADATA,
  type UnetExportOptions,
  type UnetLike,
} from './onnx/unet-onnx-bytes';
export { OnnxUNet, createOnnxDenoiser, OnnxUnetInputError, type OnnxUnetHostInputs } from './onnx/onnx-unet';
export { OnnxExportError } from './onnx/weights';
