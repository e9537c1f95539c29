/**
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
export { CONFIG_METADATA_KEY, readStateDict, type StateDictSource, type LoadedStateDict } from './io';
export { unetDenoiser, type UnetDenoiserOptions } from './denoiser';
export type { ActivationTrace } from './trace';
export { verifyUnetReference, type VerifyUnetOptions } from './verify';
export * from './onnx';
