/**
 * @srdiff/core in a browser (the `browser` condition of its `exports`): everything that computes,
 * without what needs Node.js. Left out: file IO (atomic writes, reading and writing safetensors /
 * .npy / checkpoints / PyTorch files by path, embedding folders) and the native tfjs backend.
 * The formats themselves are here (parse and serialise bytes). Backend selection picks wasm or
 * cpu; `createOrtSession` runs on onnxruntime-web. Same names and behaviour as the Node entry.
 */
import * as tf from '@tensorflow/tfjs-core';
import './tfjs/register-gradients';
import './tfjs/wasm-identity';

export { tf };
export * from './backend/select-backend';
export * from './backend/wasm-memory';
export { logicalCores } from './backend/cores';
export * from './random/rng';
export * from './io/host-tensor';
export * from './io/safetensors-format';
export * from './io/npy-format';
export * from './ops/conv2d';
export * from './nn';
export * from './optim';
export * from './verify/tolerance';
export { OnnxGraphBuilder, type OnnxDim, type OnnxNodeOptions, type OnnxModelOptions, type OnnxGraphBuilderOptions, type FloatData } from './onnx/graph-builder';
export { attr, type OnnxAttributeValue, type TypedAttribute } from './onnx/attributes';
export { OnnxDataType, type OnnxElementType } from './onnx/proto';
export { readOnnxModelSummary, type OnnxModelSummary } from './onnx/model-metadata';
export { fingerprintWeights } from './onnx/fingerprint';
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
} from './onnx/ort-session';
export * from './onnx/autodiff';
export { GraphParameters, type ParameterMode, type GraphParametersOptions } from './onnx/graph-parameters';
export { OrtTrainingSession, type TrainingGraphSpec } from './onnx/training-session';
export * from './tiling';
export { mapLimit } from './concurrency/map-limit';
export { linear } from './ops/linear';
