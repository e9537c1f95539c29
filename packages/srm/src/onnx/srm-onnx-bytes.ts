import { fingerprintWeights, type TensorDict } from '@srdiff/core';
import { resolveSrmConfig, type SrmConfig } from '../config';
import { buildSrmGraph, SRM_ONNX_OPSET } from './srm-graph';

/** Bump with any change to the emitted graph (part of the cache fingerprint). */
export const SRM_ONNX_EXPORTER_VERSION = 2;
export const SRM_ONNX_METADATA = { kind: 'srdiff.kind', config: 'srdiff.config', fingerprint: 'srdiff.weights_sha256', exporterVersion: 'srdiff.exporter_version' } as const;
export const SRM_ONNX_KIND = 'semantic-refinement-module';

/** SHA-256 of the weights, the resolved config and the exporter version. */
export function srmOnnxFingerprint(stateDict: TensorDict, config: Partial<SrmConfig>): string {
  return fingerprintWeights(stateDict, { kind: SRM_ONNX_KIND, config: resolveSrmConfig(config), exporter: SRM_ONNX_EXPORTER_VERSION, opset: SRM_ONNX_OPSET });
}

/** The serialised ONNX model of an SRM state dict (PyTorch names and layouts). */
export function srmToOnnxBytes(stateDict: TensorDict, config: Partial<SrmConfig>): Uint8Array {
  const resolved = resolveSrmConfig(config);
  return buildSrmGraph(stateDict, resolved).serialize({
    producerName: '@srdiff/srm',
    docString: 'SR-Diff Semantic Refinement Module (CLSEnhancer): embedding [B, D] -> refined [B, D].',
    metadata: {
      [SRM_ONNX_METADATA.kind]: SRM_ONNX_KIND,
      [SRM_ONNX_METADATA.config]: JSON.stringify(resolved),
      [SRM_ONNX_METADATA.fingerprint]: srmOnnxFingerprint(stateDict, resolved),
      [SRM_ONNX_METADATA.exporterVersion]: String(SRM_ONNX_EXPORTER_VERSION),
    },
  });
}
