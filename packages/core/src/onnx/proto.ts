import * as onnxProtoModule from 'onnx-proto';
import type { onnx as OnnxNamespace } from 'onnx-proto';

/**
 * The protobufjs-generated ONNX schema of `onnx-proto`. The package is CommonJS and Node's ESM
 * loader does not detect its `onnx` export by name, so it is taken from whichever shape the
 * loader hands us (namespace object under CJS/jest, `default` under native ESM).
 */
type OnnxProtoModule = { onnx?: typeof OnnxNamespace; default?: { onnx?: typeof OnnxNamespace } };

function resolveOnnx(): typeof OnnxNamespace {
  const mod = onnxProtoModule as unknown as OnnxProtoModule;
  const ns = mod.onnx ?? mod.default?.onnx;
  if (!ns?.ModelProto) throw new Error('onnx-proto: the package loaded but has no onnx.ModelProto (unexpected version?)');
  return ns;
}

export const onnx: typeof OnnxNamespace = resolveOnnx();
export type { OnnxNamespace };

/** ONNX TensorProto element types used here (values from onnx.proto). */
export const OnnxDataType = {
  float: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  double: 11,
} as const;
export type OnnxElementType = keyof typeof OnnxDataType;

/** AttributeProto.AttributeType values (from onnx.proto). */
export const OnnxAttributeType = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
} as const;
