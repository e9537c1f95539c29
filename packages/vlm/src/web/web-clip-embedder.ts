import type { HostTensor } from '@srdiff/core';
import { l2Normalize, type ImageEmbedder, type RgbImage } from '../embedder';
import { withTransformersEnv, type TransformersModule } from '../clip/transformers-runtime';
import { clipPixelValues, parseClipPreprocessConfig, type ClipPreprocessConfig } from '../preprocess/clip-image-processor';
import { readJsonFile, requireFile, type ModelFileSource } from './model-file-source';

type TjsModel = Awaited<ReturnType<TransformersModule['CLIPVisionModelWithProjection']['from_pretrained']>>;

export interface WebClipEmbedderOptions {
  /** The model's files in transformers.js's layout: config.json, preprocessor_config.json, onnx/vision_model.onnx. */
  files: ModelFileSource;
  /** Names the model in errors and reports (default `'clip'`). */
  id?: string;
  /** L2-normalise each embedding (default false, as in Node). */
  normalize?: boolean;
  /** transformers.js device (`'wasm'`, `'webgpu'`); default: its own (wasm in a page). */
  device?: 'wasm' | 'webgpu';
}

/** The origin-less prefix under which transformers.js asks for the files; our fetch answers from `files`. */
const MODEL_PREFIX = 'https://srdiff.invalid/models/';
const MODEL_NAME = 'clip';

/**
 * A CLIP image encoder in a page: the vision tower and projection through transformers.js (on
 * onnxruntime-web), with the Python-identical preprocessing (`clipPixelValues`, PIL's bicubic) that
 * `createClipExtractor` uses in Node by default, so both give the same `image_embeds`. The files
 * come from a {@link ModelFileSource} (a URL or files the user picked); nothing is downloaded
 * from the Hub.
 */
export class WebClipEmbedder implements ImageEmbedder {
  readonly family = 'clip';
  readonly revision = null;
  readonly output = 'image_embeds';
  readonly preprocessing = 'python';
  readonly settings = { quantized: false };

  private constructor(
    private readonly t: TransformersModule,
    private readonly model: TjsModel,
    readonly id: string,
    readonly preprocessConfig: ClipPreprocessConfig,
    readonly width: number,
    readonly normalize: boolean,
  ) {}

  static async create(options: WebClipEmbedderOptions): Promise<WebClipEmbedder> {
    const id = options.id ?? 'clip';
    const { files } = options;
    const config = await requireFile(readJsonFile(files, 'config.json', id), id, 'config.json');
    const preprocessConfig = parseClipPreprocessConfig(await requireFile(readJsonFile(files, 'preprocessor_config.json', id), id, 'preprocessor_config.json'), `${id}/preprocessor_config.json`);
    const vision = (config.vision_config ?? config) as Record<string, unknown>;
    const width = Number(config.projection_dim ?? vision.projection_dim);
    if (!Number.isInteger(width) || width < 1) throw new Error(`${id}/config.json: no projection_dim (the width of image_embeds)`);
    const passThrough = globalThis.fetch.bind(globalThis);
    // transformers.js fetches more than the model (its runtime's .wasm): only the model's files come from `files`.
    const answer: typeof fetch = async (input, init) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      if (!url.startsWith(MODEL_PREFIX)) return passThrough(input, init);
      const bytes = await files(decodeURIComponent(url.slice(MODEL_PREFIX.length + MODEL_NAME.length + 1)));
      return bytes ? new Response(bytes as BlobPart, { status: 200 }) : new Response(null, { status: 404, statusText: 'Not Found' });
    };
    const settings = { allowRemoteModels: false, allowLocalModels: true, localModelPath: MODEL_PREFIX, useBrowserCache: false, fetch: answer };
    return withTransformersEnv(settings, async (t) => {
      // No device given: transformers.js's default (wasm in a page, cpu in Node).
      const model = await t.CLIPVisionModelWithProjection.from_pretrained(MODEL_NAME, { dtype: 'fp32', ...(options.device ? { device: options.device } : {}) });
      return new WebClipEmbedder(t, model, id, preprocessConfig, width, options.normalize ?? false);
    });
  }

  preprocess(images: readonly RgbImage[]): HostTensor {
    const { data, dims } = clipPixelValues(images, this.preprocessConfig);
    return { shape: dims, data };
  }

  async embed(batch: readonly RgbImage[]): Promise<Float32Array[]> {
    if (batch.length === 0) return [];
    const pixels = this.preprocess(batch);
    const out = (await this.model({ pixel_values: new this.t.Tensor('float32', pixels.data, [...pixels.shape]) })) as Record<string, { data: Float32Array; dims: number[] }>;
    const embeds = out.image_embeds!;
    const width = embeds.dims[embeds.dims.length - 1]!;
    if (width !== this.width || embeds.dims[0] !== batch.length) throw new Error(`${this.id}: image_embeds of shape [${embeds.dims.join(', ')}], expected [${batch.length}, ${this.width}]`);
    return batch.map((_, i) => {
      const v = Float32Array.from(embeds.data.subarray(i * width, (i + 1) * width));
      return this.normalize ? l2Normalize(v) : v;
    });
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}

export function createWebClipEmbedder(options: WebClipEmbedderOptions): Promise<WebClipEmbedder> {
  return WebClipEmbedder.create(options);
}
