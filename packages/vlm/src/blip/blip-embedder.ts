import type { HostTensor } from '@srdiff/core';
import { l2Normalize, type ImageEmbedder, type RgbImage } from '../embedder';
import { extractEmbeddings } from '../extract/extract-embeddings';
import { extractFolder, type ExtractFolderResult } from '../extract/extract-folder';
import { ModelFiles } from '../hub/model-files';
import type { ImageBatch } from '../image/image-source';
import type { ExtractFolderOptions, ExtractOptions } from '../options';
import { blipPixelValues, type BlipPreprocessConfig, type BlipPreprocessing } from '../preprocess/blip-image-processor';
import type { BlipConfig } from './blip-config';
import { readBlipCheckpoint } from './blip-files';
import { BlipOnnxModel, type BlipRunOutputs } from './blip-onnx-model';
import { resolveBlipOptions, type BlipEmbedderOptions, type ResolvedBlipOptions } from './blip-options';

import { BLIP_OUTPUT } from './blip-output';

export { BLIP_OUTPUT } from './blip-output';

/**
 * The original SR-Diff's semantic vector (`BLIPFeatureExtractor.get_cls_embedding`) behind the
 * {@link ImageEmbedder} interface: a `BlipForConditionalGeneration` checkpoint run as one ONNX
 * graph on ONNX Runtime, with Hugging Face's `BlipImageProcessor` reproduced exactly. Create it
 * with {@link createBlipEmbedder}.
 */
export class BlipEmbedder implements ImageEmbedder {
  readonly family = 'blip';
  readonly id: string;
  readonly revision: string | null;
  readonly output = BLIP_OUTPUT;
  readonly normalize: boolean;
  readonly preprocessing: BlipPreprocessing;
  readonly settings: Readonly<Record<string, string | number | boolean>>;
  /** The checkpoint's weights files. */
  readonly weightsFiles: readonly string[];

  private constructor(
    private readonly model: BlipOnnxModel,
    /** The resolved `config.json` (every default filled in). */
    readonly config: BlipConfig,
    /** The settings read from `preprocessor_config.json`. */
    readonly preprocessConfig: BlipPreprocessConfig,
    /** The `[CLS]` token id fed at position 0. */
    readonly clsTokenId: number,
    files: ModelFiles,
    options: ResolvedBlipOptions,
    weightsFiles: string[],
  ) {
    this.id = files.id;
    this.revision = files.source.kind === 'hub' ? files.revision : null;
    this.normalize = options.normalize;
    this.preprocessing = options.preprocessing;
    this.weightsFiles = weightsFiles;
    this.settings = { vlm: 'blip', cls_token_id: clsTokenId, image_size: config.vision_config.image_size };
  }

  /** Loads the model (see {@link createBlipEmbedder}). */
  static async create(options: BlipEmbedderOptions = {}): Promise<BlipEmbedder> {
    const opts = resolveBlipOptions(options);
    const files = new ModelFiles(opts.model, { revision: opts.revision, cacheDir: opts.cacheDir, localModelPath: opts.localModelPath, allowRemote: opts.allowRemote });
    const checkpoint = await readBlipCheckpoint(files);
    const model = await BlipOnnxModel.create(checkpoint.stateDict, checkpoint.config, {
      clsTokenId: checkpoint.clsTokenId,
      debugOutputs: opts.debugOutputs,
      source: checkpoint.weightsFiles.join(', '),
      session: { threads: opts.threads, executionProviders: opts.executionProviders },
    });
    return new BlipEmbedder(model, checkpoint.config, checkpoint.preprocessConfig, checkpoint.clsTokenId, files, opts, checkpoint.weightsFiles);
  }

  /** Length of every embedding: `text_config.hidden_size` (768 for BLIP base and large). */
  get width(): number {
    return this.model.width;
  }

  /** `pixel_values` (NCHW float32) for decoded RGB images, with this embedder's preprocessing mode. */
  preprocess(images: readonly RgbImage[]): HostTensor {
    const { data, dims } = blipPixelValues(images, this.preprocessConfig, this.preprocessing);
    return { shape: dims, data };
  }

  /** Runs the graph on given `pixel_values` `[N, 3, S, S]`: `cls`, plus the debug states when created with `debugOutputs`. */
  run(pixelValues: HostTensor): Promise<BlipRunOutputs> {
    return this.model.run(pixelValues);
  }

  async embed(batch: readonly RgbImage[]): Promise<Float32Array[]> {
    if (batch.length === 0) return [];
    const { cls } = await this.run(this.preprocess(batch));
    const width = this.width;
    return batch.map((_, i) => {
      const v = cls.data.slice(i * width, (i + 1) * width);
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
    await this.model.dispose();
  }
}

/**
 * Loads a BLIP captioning checkpoint as an image embedder. `model` is a hub id (default
 * `Salesforce/blip-image-captioning-base`, downloaded when `allowRemote`) or a local folder in the
 * `save_pretrained` layout (`config.json`, `preprocessor_config.json`, `vocab.txt`,
 * `model.safetensors` or `pytorch_model.bin`).
 */
export function createBlipEmbedder(options: BlipEmbedderOptions = {}): Promise<BlipEmbedder> {
  return BlipEmbedder.create(options);
}
