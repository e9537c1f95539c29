import { createOrtSession, type HostTensor, type OrtSessionHandle, type OrtSessionOptions, type TensorDict } from '@srdiff/core';
import { visionTokens, type BlipConfig } from './blip-config';
import { BLIP_ONNX_IO, buildBlipGraph } from './blip-graph';

/** What one run of the graph gives: `cls` `[B, text hidden]`, and the debug states when the graph has them. */
export interface BlipRunOutputs {
  cls: HostTensor;
  /** Vision `last_hidden_state` `[B, tokens, vision hidden]` (debug graphs only). */
  visionLastHiddenState?: HostTensor;
  /** Position 0 after the text embeddings (index 0) and after each decoder layer, `[B, text hidden]` each (debug graphs only). */
  decoderPosition0?: HostTensor[];
}

export interface BlipOnnxModelOptions {
  clsTokenId: number;
  /** Build the graph with the debug outputs (parity checks); slower only by the copies out. */
  debugOutputs?: boolean;
  /** Names the weights in error messages. */
  source?: string;
  session?: OrtSessionOptions;
}

/**
 * The BLIP CLS-embedding graph on ONNX Runtime. Inputs and outputs cross the engine boundary once
 * per call as host arrays (`pixel_values` NCHW float32).
 */
export class BlipOnnxModel {
  private disposed = false;

  private constructor(
    readonly handle: OrtSessionHandle,
    readonly config: BlipConfig,
    readonly debugOutputs: boolean,
  ) {}

  /** Builds the graph from a state dict and opens it on ORT. */
  static async create(stateDict: TensorDict, config: BlipConfig, options: BlipOnnxModelOptions): Promise<BlipOnnxModel> {
    const graph = buildBlipGraph(stateDict, config, { clsTokenId: options.clsTokenId, debugOutputs: options.debugOutputs, source: options.source });
    const bytes = graph.serialize({ docString: `BLIP text-decoder position-0 state (SR-Diff's get_cls_embedding) from ${options.source ?? 'a state dict'}` });
    const handle = await createOrtSession(bytes, options.session ?? {});
    return new BlipOnnxModel(handle, config, options.debugOutputs ?? false);
  }

  /** Width of `cls`. */
  get width(): number {
    return this.config.text_config.hidden_size;
  }

  /** Runs the graph on `pixel_values` `[B, 3, S, S]`. */
  async run(pixelValues: HostTensor): Promise<BlipRunOutputs> {
    if (this.disposed) throw new Error('@srdiff/vlm: the BLIP model was disposed');
    const size = this.config.vision_config.image_size;
    const [b, c, h, w] = pixelValues.shape;
    if (pixelValues.shape.length !== 4 || c !== 3 || h !== size || w !== size || !(b! >= 1)) {
      throw new Error(`@srdiff/vlm: BLIP pixel_values must be [B, 3, ${size}, ${size}] (vision_config.image_size), got [${pixelValues.shape.join(', ')}]`);
    }
    if (pixelValues.data.length !== b! * 3 * size * size) throw new Error(`@srdiff/vlm: pixel_values [${pixelValues.shape.join(', ')}] needs ${b! * 3 * size * size} values, got ${pixelValues.data.length}`);
    const { ort, session } = this.handle;
    const input = new ort.Tensor('float32', pixelValues.data, [...pixelValues.shape]);
    const out = await session.run({ [BLIP_ONNX_IO.pixelValues]: input });
    const take = (name: string): HostTensor => {
      const t = out[name]!;
      // Copy into this realm's array: the binding's buffer belongs to ORT's output tensor.
      const result = { shape: [...t.dims], data: Float32Array.from(t.data as Float32Array) };
      t.dispose?.();
      return result;
    };
    try {
      const result: BlipRunOutputs = { cls: take(BLIP_ONNX_IO.cls) };
      if (this.debugOutputs) {
        result.visionLastHiddenState = take(BLIP_ONNX_IO.visionLastHiddenState);
        result.decoderPosition0 = Array.from({ length: this.config.text_config.num_hidden_layers + 1 }, (_, i) => take(BLIP_ONNX_IO.decoderPosition0(i)));
      }
      return result;
    } finally {
      input.dispose?.();
    }
  }

  /** Tokens the vision model sees per image. */
  get visionTokens(): number {
    return visionTokens(this.config.vision_config);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.handle.session.release();
  }
}
