export { OnnxGraphBuilder, type OnnxDim, type OnnxNodeOptions, type OnnxModelOptions, type OnnxGraphBuilderOptions, type FloatData } from './graph-builder';
export { attr, type OnnxAttributeValue, type TypedAttribute } from './attributes';
export { OnnxDataType, type OnnxElementType } from './proto';
export { readOnnxModelSummary, type OnnxModelSummary } from './model-metadata';
export { readOnnxModelSummaryFile } from './model-metadata-file';
export { fingerprintWeights } from './fingerprint';
export {
  createOrtSession,
  loadOnnxRuntime,
  useOnnxRuntime,
  onnxRuntimeAvailable,
  OnnxRuntimeMissingError,
  ORT_SESSION_DEFAULTS,
  type OnnxRuntime,
  type OrtInferenceSession,
  type OrtTensor,
  type OrtGraphOptimizationLevel,
  type OrtExecutionProvider,
  type OrtSessionOptions,
  type OrtSessionHandle,
  type OrtProviderAttempt,
} from './ort-session';
export * from './autodiff';
export { GraphParameters, type ParameterMode, type GraphParametersOptions } from './graph-parameters';
export { OrtTrainingSession, type TrainingGraphSpec } from './training-session';
