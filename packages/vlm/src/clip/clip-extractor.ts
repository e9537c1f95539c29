import type { HostTensor } from '@srdiff/core';
import { l2Normalize, type ImageEmbedder, type RgbImage } from '../embedder';
import { extractEmbeddings } from '../extract/extract-embeddings';
import { extractFolder, type ExtractFolderResult } from '../extract/extract-folder';
import type { ImageBatch } from '../image/image-source';
import {
  resolveClipOptions,
  type ClipExtractorOptions,
  type ClipOutput,
  type ExtractFolderOptions,
  type ExtractOptions,
  type PreprocessingMode,
  type ResolvedClipOptions,
} from '../options';
import { clipPixelValues, parseClipPreprocessConfig, type ClipPreprocessConfig } from '../preprocess/clip-image-processor';
import fs from 'node:fs';
import { findLocalFile, findMissingFiles, modelNotFoundMessage, ModelNotFoundError, onnxFileName, resolveModelLocation, type ModelLocation } from './model-location';
import { exposePooledOutput } from './pooled-output';
import { loadTransformers, withTransformersEnv, type TransformersModule } from './transformers-runtime';

type TjsModel = Awaited<ReturnType<TransformersModule['CLIPVisionModelWithProjection']['from_pretrained']>>;
type TjsImageProcessor = Awaited<ReturnType<TransformersModule['AutoImageProcessor']['from_pretrained']>>;
/** An onnxruntime-node session as transformers.js holds it (`model.sessions.model`). */
interface OrtSession {
  config?: unknown;
  release(): Promise<void>;
  constructor: { create(model: Uint8Array, options: { executionProviders: string[] }): Promise<OrtSession> };
}

/** The vision tower's outputs for a batch: `image_embeds` [N, proj], `last_hidden_state` [N, tokens, hidden], and `pooled` [N, hidden] when requested. */
export interface ClipModelOutputs {
  image_embeds: HostTensor;
  last_hidden_state: HostTensor;
  pooled?: HostTensor;
}

function configNumber(config: Record<string, unknown>, key: string): number | undefined {
  const vision = config.vision_config as Record<string, unknown> | undefined;
  const v = config.model_type === 'clip' ? (vision?.[key] ?? config[key]) : (config[key] ?? vision?.[key]);
  return typeof v === 'number' ? v : undefined;
}

function hostTensorOf(t: { data: Float32Array; dims: number[] }): HostTensor {
  return { shape: [...t.dims], data: t.data instanceof Float32Array ? t.data : Float32Array.from(t.data) };
}

/**
 * A CLIP image encoder (transformers.js 4.x on onnxruntime-node) behind the {@link ImageEmbedder}
 * interface. Create it with {@link createClipExtractor}.
 */
export class ClipExtractor implements ImageEmbedder {
  readonly family = 'clip';
  readonly id: string;
  readonly revision: string | null;
  readonly output: ClipOutput;
  readonly normalize: boolean;
  readonly preprocessing: PreprocessingMode;
  readonly quantized: boolean;
  /** The preprocessing settings read from the model's `preprocessor_config.json`. */
  readonly preprocessConfig: ClipPreprocessConfig;
  readonly settings: Readonly<Record<string, string | number | boolean>>;
  private disposed = false;
  private embeddingWidth: number;

  private constructor(
    private readonly t: TransformersModule,
    private readonly model: TjsModel,
    private readonly processor: TjsImageProcessor,
    readonly location: ModelLocation,
    options: ResolvedClipOptions,
    width: number,
    private readonly pooledName: string | undefined,
  ) {
    this.embeddingWidth = width;
    this.id = location.id;
    this.revision = location.kind === 'hub' ? options.revision : null;
    this.output = options.output;
    this.normalize = options.normalize;
    this.preprocessing = options.preprocessing;
    this.quantized = options.quantized;
    this.preprocessConfig = parseClipPreprocessConfig(processor.config as Record<string, unknown>, `${location.id}/preprocessor_config.json`);
    this.settings = { quantized: options.quantized };
  }

  /** Loads the model (see {@link createClipExtractor}). */
  static async create(options: ClipExtractorOptions = {}): Promise<ClipExtractor> {
    const opts = resolveClipOptions(options);
    const { env } = await loadTransformers();
    const location = resolveModelLocation(opts, env.localModelPath);
    const offline = location.kind === 'folder' || !opts.allowRemote;
    if (offline) {
      const missing = findMissingFiles(location, opts, env.cacheDir);
      if (missing.length) throw new ModelNotFoundError(modelNotFoundMessage(location, opts, missing));
    }
    const pretrained = { local_files_only: offline, revision: opts.revision, ...(opts.cacheDir ? { cache_dir: opts.cacheDir } : {}) };
    const settings = { allowRemoteModels: !offline, allowLocalModels: true, localModelPath: location.localModelPath, ...(opts.cacheDir ? { cacheDir: opts.cacheDir } : {}) };
    try {
      return await withTransformersEnv(settings, async (t) => {
        const processor = await t.AutoImageProcessor.from_pretrained(location.loadId, pretrained);
        // fp32 unless asked: the 8-bit graph (`q8`, onnx/vision_model_quantized.onnx) is not interchangeable with Python's embeddings.
        const model = await t.CLIPVisionModelWithProjection.from_pretrained(location.loadId, { ...pretrained, dtype: opts.quantized ? 'q8' : 'fp32', device: 'cpu' });
        let pooledName: string | undefined;
        if (opts.output === 'pooled') pooledName = await ClipExtractor.exposePooled(model, location, opts, env.cacheDir);
        const width = configNumber(model.config as unknown as Record<string, unknown>, opts.output === 'pooled' ? 'hidden_size' : 'projection_dim');
        const extractor = new ClipExtractor(t, model, processor, location, opts, width ?? 0, pooledName);
        // A config without the size keys: run one blank image to learn it.
        if (width === undefined) extractor.embeddingWidth = await extractor.probeWidth();
        return extractor;
      });
    } catch (err) {
      if (err instanceof ModelNotFoundError) throw err;
      const message = (err as Error).message;
      if (/not found|could not locate|fetch failed|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|Unauthorized|404/i.test(message)) {
        const missing = findMissingFiles(location, opts, env.cacheDir);
        throw new ModelNotFoundError(modelNotFoundMessage(location, opts, missing, message));
      }
      throw new Error(`@srdiff/vlm: loading CLIP model '${location.id}' failed: ${message}`, { cause: err });
    }
  }

  /** Replaces the loaded session by one whose graph also outputs the pooled vector (see {@link exposePooledOutput}); returns its name. */
  private static async exposePooled(model: TjsModel, location: ModelLocation, opts: ResolvedClipOptions, cacheDir: string | null): Promise<string> {
    const file = onnxFileName(opts.quantized);
    // from_pretrained has just read it from the folder, or downloaded it into the cache.
    const found = findLocalFile(location, file, opts, cacheDir);
    if (!found) throw new ModelNotFoundError(modelNotFoundMessage(location, opts, findMissingFiles(location, opts, cacheDir)));
    const exposed = exposePooledOutput(new Uint8Array(fs.readFileSync(found)), `${location.id}/${file}`);
    const loaded = model.sessions.model as OrtSession;
    const session = await loaded.constructor.create(exposed.model, { executionProviders: ['cpu'] });
    session.config = loaded.config;
    await loaded.release();
    model.sessions.model = session;
    return exposed.outputName;
  }

  /** Length of every embedding (`projection_dim` for image_embeds, `hidden_size` for pooled). */
  get width(): number {
    return this.embeddingWidth;
  }

  private async probeWidth(): Promise<number> {
    const { height, width } = this.preprocessConfig.cropSize;
    const out = await this.run({ shape: [1, 3, height, width], data: new Float32Array(3 * height * width) });
    const vec = this.output === 'pooled' ? out.pooled! : out.image_embeds;
    return vec.shape[vec.shape.length - 1]!;
  }

  private assertLive(): void {
    if (this.disposed) throw new Error(`@srdiff/vlm: the CLIP extractor for '${this.id}' was disposed`);
  }

  /** `pixel_values` (NCHW float32) for decoded RGB images, with this extractor's preprocessing mode. */
  async preprocess(images: readonly RgbImage[]): Promise<HostTensor> {
    if (this.preprocessing === 'python') {
      const { data, dims } = clipPixelValues(images, this.preprocessConfig);
      return { shape: dims, data };
    }
    const raw = images.map((img) => new this.t.RawImage(img.data, img.width, img.height, img.channels as 1 | 2 | 3 | 4));
    const { pixel_values } = (await this.processor(raw)) as { pixel_values: { data: Float32Array; dims: number[] } };
    return hostTensorOf(pixel_values);
  }

  /** Runs the vision tower on given `pixel_values` [N, 3, H, W]. */
  async run(pixelValues: HostTensor): Promise<ClipModelOutputs> {
    this.assertLive();
    if (pixelValues.shape.length !== 4 || pixelValues.shape[1] !== 3) {
      throw new Error(`@srdiff/vlm: pixel_values must be [N, 3, H, W], got [${pixelValues.shape.join(', ')}]`);
    }
    const out = (await this.model({ pixel_values: new this.t.Tensor('float32', pixelValues.data, [...pixelValues.shape]) })) as Record<string, { data: Float32Array; dims: number[] }>;
    const result: ClipModelOutputs = { image_embeds: hostTensorOf(out.image_embeds!), last_hidden_state: hostTensorOf(out.last_hidden_state!) };
    if (this.pooledName) result.pooled = hostTensorOf(out[this.pooledName]!);
    return result;
  }

  async embed(batch: readonly RgbImage[]): Promise<Float32Array[]> {
    if (batch.length === 0) return [];
    const outputs = await this.run(await this.preprocess(batch));
    const matrix = this.output === 'pooled' ? outputs.pooled! : outputs.image_embeds;
    const width = matrix.shape[matrix.shape.length - 1]!;
    if (matrix.shape.length !== 2 || matrix.shape[0] !== batch.length || (this.width && width !== this.width)) {
      throw new Error(`@srdiff/vlm: model returned ${this.output} of shape [${matrix.shape.join(', ')}], expected [${batch.length}, ${this.width}]`);
    }
    return batch.map((_, i) => {
      const v = matrix.data.slice(i * width, (i + 1) * width);
      return this.normalize ? l2Normalize(v) : v;
    });
  }

  /** Embeds images (paths, Buffers, sharp instances, pixels) or an NHWC tensor; see {@link extractEmbeddings}. */
  extract(images: ImageBatch, options?: ExtractOptions & { onError?: 'stop' }): Promise<Float32Array[]>;
  extract(images: ImageBatch, options: ExtractOptions): Promise<(Float32Array | null)[]>;
  extract(images: ImageBatch, options: ExtractOptions = {}): Promise<(Float32Array | null)[]> {
    return extractEmbeddings(this, images, options);
  }

  /** Writes one `.npy` per image of `inDir` into `outDir`; see {@link extractFolder}. */
  extractFolder(inDir: string, outDir: string, options: ExtractFolderOptions = {}): Promise<ExtractFolderResult> {
    return extractFolder(this, inDir, outDir, options);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.model.dispose();
  }
}

/**
 * Loads a CLIP image encoder. `model` is a hub id (default `Xenova/clip-vit-base-patch32`,
 * downloaded when `allowRemote`) or a local folder in the transformers.js layout
 * (`config.json`, `preprocessor_config.json`, `onnx/vision_model.onnx`). The returned extractor
 * reports its embedding `width`.
 */
export function createClipExtractor(options: ClipExtractorOptions = {}): Promise<ClipExtractor> {
  return ClipExtractor.create(options);
}
