import { createOrtSession, type HostTensor, type OrtSessionHandle, type OrtSessionOptions } from '@srdiff/core';
import { SRM_ONNX_IO } from './srm-graph';

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
