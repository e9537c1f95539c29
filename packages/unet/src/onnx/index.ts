export { buildUnetGraph, emitUnetGraph, UNET_ONNX_IO, UNET_ONNX_OPSET, type UnetGraphOptions, type UnetGraph, type UnetGraphInputs } from './unet-graph';
export {
  exportOnnx,
  toOnnx,
  unetToOnnxBytes,
  unetOnnxFingerprint,
  onnxCacheIsFresh,
  ensureOnnxExport,
  UNET_ONNX_EXPORTER_VERSION,
  UNET_ONNX_METADATA,
  type UnetExportOptions,
  type UnetLike,
  type ExportResult,
} from './export-onnx';
export { OnnxUNet, createOnnxDenoiser, OnnxUnetInputError, type OnnxUnetHostInputs } from './onnx-unet';
export { OnnxExportError } from './weights';
export * from './training';
