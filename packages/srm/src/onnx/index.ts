export { buildSrmGraph, SRM_ONNX_IO, SRM_ONNX_OPSET, SrmOnnxExportError } from './srm-graph';
export { exportSrmOnnx, srmToOnnxBytes, srmOnnxFingerprint, srmOnnxCacheIsFresh, OnnxSrm, SRM_ONNX_EXPORTER_VERSION, SRM_ONNX_METADATA } from './export-srm-onnx';
