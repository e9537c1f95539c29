import { readOnnxModelSummaryFile, writeFileAtomic, type TensorDict } from '@srdiff/core';
import { resolveUnetConfig, type UNetConfig, type UNetOptions } from '../config';
import { serializeUnetOnnx, UNET_ONNX_METADATA, unetOnnxFingerprint, type UnetExportOptions } from './unet-onnx-bytes';

// Building the model bytes (unet-onnx-bytes.ts) runs in browsers too; writing and caching files is here.
export {
  UNET_ONNX_EXPORTER_VERSION,
  UNET_ONNX_METADATA,
  UNET_ONNX_KIND,
  unetOnnxFingerprint,
  unetToOnnxBytes,
  toOnnx,
  type UnetExportOptions,
  type UnetLike,
} from './unet-onnx-bytes';

export interface ExportResult {
  path: string;
  bytes: number;
  fingerprint: string;
}

/**
 * Writes the ONNX model of a state dict to `path` atomically (a reader never sees a partial file),
 * recording the weights fingerprint in its metadata (see {@link onnxCacheIsFresh}).
 */
export async function exportOnnx(stateDict: TensorDict, config: UNetOptions | UNetConfig, path: string, options: UnetExportOptions = {}): Promise<ExportResult> {
  const fingerprint = unetOnnxFingerprint(stateDict, config, options);
  const bytes = serializeUnetOnnx(stateDict, resolveUnetConfig(config), options, fingerprint);
  await writeFileAtomic(path, bytes);
  return { path, bytes: bytes.byteLength, fingerprint };
}

/**
 * Whether `onnxPath` holds an export of exactly these weights, config and exporter version (false
 * when it is missing, unreadable or stale). What a cache next to a checkpoint checks before reuse.
 */
export async function onnxCacheIsFresh(onnxPath: string, stateDict: TensorDict, config: UNetOptions | UNetConfig, options: UnetExportOptions = {}): Promise<boolean> {
  let summary;
  try {
    summary = await readOnnxModelSummaryFile(onnxPath);
  } catch {
    return false;
  }
  return summary?.metadata[UNET_ONNX_METADATA.fingerprint] === unetOnnxFingerprint(stateDict, config, options);
}

/**
 * Returns `onnxPath` after making sure it holds a fresh export of these weights: reuses a fresh
 * file, (re)writes a missing or stale one. `rebuilt` says which happened.
 */
export async function ensureOnnxExport(
  onnxPath: string,
  stateDict: TensorDict,
  config: UNetOptions | UNetConfig,
  options: UnetExportOptions = {},
): Promise<{ path: string; rebuilt: boolean }> {
  if (await onnxCacheIsFresh(onnxPath, stateDict, config, options)) return { path: onnxPath, rebuilt: false };
  await exportOnnx(stateDict, config, onnxPath, options);
  return { path: onnxPath, rebuilt: true };
}
