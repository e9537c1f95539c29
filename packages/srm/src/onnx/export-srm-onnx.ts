import { createOrtSession, fingerprintWeights, readOnnxModelSummaryFile, writeFileAtomic, type HostTensor, type OrtSessionHandle, type OrtSessionOptions, type TensorDict } from '@srdiff/core';
import { resolveSrmConfig, type SrmConfig } from '../config';
import { buildSrmGraph, SRM_ONNX_IO, SRM_ONNX_OPSET } from './srm-graph';

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

/** An exported SRM on ONNX Runtime: `refine([N, D] host tensor)` → `[N, D]`. */
export class OnnxSrm {
  private constructor(readonly handle: OrtSessionHandle, readonly inputDim: number) {}

  static async create(model: Uint8Array | string, options: OrtSessionOptions = {}): Promise<OnnxSrm> {
    const handle = await createOrtSession(model, options);
    const dims = handle.session.inputMetadata?.[0];
    const width = dims && 'shape' in dims ? Number((dims.shape as unknown[])[1]) : NaN;
    return new OnnxSrm(handle, width);
  }

  async refine(embeddings: HostTensor): Promise<HostTensor> {
    const { shape, data } = embeddings;
    if (shape.length !== 2 || (Number.isFinite(this.inputDim) && shape[1] !== this.inputDim)) {
      throw new Error(`OnnxSrm.refine: expected [batch, ${this.inputDim}] embeddings, got [${shape.join(', ')}]`);
    }
    const out = await this.handle.session.run({ [SRM_ONNX_IO.embedding]: new this.handle.ort.Tensor('float32', data, shape) });
    const refined = out[SRM_ONNX_IO.refined]!;
    return { shape: [...refined.dims], data: Float32Array.from(refined.data as Float32Array) };
  }

  async dispose(): Promise<void> {
    await this.handle.session.release();
  }
}
