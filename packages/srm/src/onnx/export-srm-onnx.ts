import { readOnnxModelSummaryFile, writeFileAtomic, type TensorDict } from '@srdiff/core';
import type { SrmConfig } from '../config';
import { SRM_ONNX_METADATA, srmOnnxFingerprint, srmToOnnxBytes } from './srm-onnx-bytes';

// The graph bytes (srm-onnx-bytes.ts) and the session (onnx-srm.ts) run in browsers too; files here.
export { SRM_ONNX_EXPORTER_VERSION, SRM_ONNX_KIND, SRM_ONNX_METADATA, srmOnnxFingerprint, srmToOnnxBytes } from './srm-onnx-bytes';
export { OnnxSrm } from './onnx-srm';

/** Writes the SRM's ONNX model to `path` atomically; returns its fingerprint. */
export async function exportSrmOnnx(stateDict: TensorDict, config: Partial<SrmConfig>, path: string): Promise<{ path: string; bytes: number; fingerprint: string }> {
  const bytes = srmToOnnxBytes(stateDict, config);
  await writeFileAtomic(path, bytes);
  return { path, bytes: bytes.byteLength, fingerprint: srmOnnxFingerprint(stateDict, config) };
}

/** Whether `onnxPath` is an export of exactly these weights and config by this exporter version. */
export async function srmOnnxCacheIsFresh(onnxPath: string, stateDict: TensorDict, config: Partial<SrmConfig>): Promise<boolean> {
  try {
    const summary = await readOnnxModelSummaryFile(onnxPath);
    return summary?.metadata[SRM_ONNX_METADATA.fingerprint] === srmOnnxFingerprint(stateDict, config);
  } catch {
    return false;
  }
}
