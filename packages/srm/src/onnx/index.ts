export { buildSrmGraph, emitSrmGraph, SRM_ONNX_IO, SRM_ONNX_OPSET, SrmOnnxExportError, type SrmGraph, type SrmGraphOptions } from './srm-graph';
export { exportSrmOnnx, srmToOnnxBytes, srmOnnxFingerprint, srmOnnxCacheIsFresh, OnnxSrm, SRM_ONNX_EXPORTER_VERSION, SRM_ONNX_METADATA } from './export-srm-onnx';
export { buildSrmTrainingGraph, emitHybridLoss, OnnxSrmTrainer, SRM_TRAINING_IO, srmGradientOutput, type SrmTrainingGraph } from './srm-training';
