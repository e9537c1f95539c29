/**
 * @srdiff/srm in a browser (the `browser` condition of its `exports`): the Semantic Refinement
 * Module (on TensorFlow.js, or its ONNX graph on onnxruntime-web) and `refine` of embeddings in
 * memory. Left out: embedding folders, weight and checkpoint files, training, the reference check.
 */
export {
  SRM_DEFAULTS,
  REFINE_DEFAULTS,
  resolveSrmConfig,
  type SrmConfig,
} from './config';
export { SemanticRefinementModule, inferSrmConfig, type FromStateDictOptions, type SrmIntermediates } from './models/semantic-refinement-module';
export { SREncoderLayer } from './models/sr-encoder-layer';
export { GeluMlp } from './models/gelu-mlp';
export { linear } from '@srdiff/core';
export { hybridLoss, rowCosineSimilarity, HYBRID_LOSS_ALPHA } from './loss/hybrid-loss';
export { refine, type RefineOptions } from './refine-embeddings';
export { buildSrmGraph, emitSrmGraph, SRM_ONNX_IO, SRM_ONNX_OPSET, SrmOnnxExportError, type SrmGraph, type SrmGraphOptions } from './onnx/srm-graph';
export { srmToOnnxBytes, srmOnnxFingerprint, SRM_ONNX_EXPORTER_VERSION, SRM_ONNX_METADATA } from './onnx/srm-onnx-bytes';
export { OnnxSrm } from './onnx/onnx-srm';
