import { parseSafetensors, type HostTensor, type OrtSessionOptions } from '@srdiff/core';
import { l2Normalize, type ImageEmbedder, type RgbImage } from '../embedder';
import { blipPixelValues, parseBlipPreprocessConfig, type BlipPreprocessConfig, type BlipPreprocessing } from '../preprocess/blip-image-processor';
import { resolveBlipConfig, type BlipConfig } from '../blip/blip-config';
import { BLIP_OUTPUT } from '../blip/blip-output';
import { BlipOnnxModel } from '../blip/blip-onnx-model';
import { resolveClsTokenId } from '../blip/cls-token';
import { readJsonFile, requireFile, type ModelFileSource } from './model-file-source';

export interface WebBlipEmbedderOptions {
  /** The checkpoint's files (`save_pretrained` layout: config.json, preprocessor_config.json, vocab.txt or tokenizer.json, model.safetensors). */
  files: ModelFileSource;
  /** Names the model in errors and in what the page reports (default `'blip'`). */
  id?: string;
  /** `'slow'` (Pillow's resampling, the default, as in Node) or `'fast'`. */
  preprocessing?: BlipPreprocessing;
  /** L2-normalise each embedding (the original does not). */
  normalize?: boolean;
  /** onnxruntime-web session settings (threads, `['webgpu', 'wasm']`). */
  session?: OrtSessionOptions;
}

/**
 * The paper's BLIP embedding in a page: the same graph `createBlipEmbedder` builds in Node (core's
 * OnnxGraphBuilder, from the Hugging Face weights), on onnxruntime-web, with the same Python-exact
 * preprocessing. Weights must be `model.safetensors` (a page has no `torch.save` reader for
 * `pytorch_model.bin`; `srdiff export --web` writes safetensors).
 */
export class WebBlipEmbedder implements ImageEmbedder {
  readonly family = 'blip';
  readonly revision = null;
  readonly output = BLIP_OUTPUT;
  readonly settings: Readonly<Record<string, string | number | boolean>>;

  private constructor(
    private readonly model: BlipOnnxModel,
    readonly id: string,
    readonly config: BlipConfig,
    readonly preprocessConfig: BlipPreprocessConfig,
    readonly preprocessing: BlipPreprocessing,
    readonly normalize: boolean,
    clsTokenId: number,
  ) {
    this.settings = { vlm: 'blip', cls_token_id: clsTokenId, image_size: config.vision_config.image_size };
  }

  static async create(options: WebBlipEmbedderOptions): Promise<WebBlipEmbedder> {
    const id = options.id ?? 'blip';
    const { files } = options;
    const config = resolveBlipConfig(await requireFile(readJsonFile(files, 'config.json', id), id, 'config.json'), `${id}/config.json`);
    const preprocessConfig = parseBlipPreprocessConfig(
      await requireFile(readJsonFile(files, 'preprocessor_config.json', id), id, 'preprocessor_config.json'),
      `${id}/preprocessor_config.json`,
    );
    const vocab = await files('vocab.txt');
    const tokenizerJson = vocab ? undefined : await readJsonFile(files, 'tokenizer.json', id);
    if (!vocab && !tokenizerJson) throw new Error(`${id}: the model has no tokenizer vocabulary (vocab.txt or tokenizer.json)`);
    const clsTokenId = resolveClsTokenId(
      { tokenizerConfig: await readJsonFile(files, 'tokenizer_config.json', id), vocabTxt: vocab ? new TextDecoder().decode(vocab) : undefined, tokenizerJson },
      id,
    );
    const weights = await files('model.safetensors');
    if (!weights) throw new Error(`${id}: no model.safetensors (in a browser BLIP weights are read from safetensors; convert pytorch_model.bin with srdiff export --web or srdiff convert)`);
    const { tensors } = parseSafetensors(weights, `${id}/model.safetensors`);
    const model = await BlipOnnxModel.create(tensors, config, { clsTokenId, source: `${id}/model.safetensors`, session: options.session });
    return new WebBlipEmbedder(model, id, config, preprocessConfig, options.preprocessing ?? 'slow', options.normalize ?? false, clsTokenId);
  }

  get width(): number {
    return this.model.width;
  }

  preprocess(images: readonly RgbImage[]): HostTensor {
    const { data, dims } = blipPixelValues(images, this.preprocessConfig, this.preprocessing);
    return { shape: dims, data };
  }

  async embed(batch: readonly RgbImage[]): Promise<Float32Array[]> {
    if (batch.length === 0) return [];
    const { cls } = await this.model.run(this.preprocess(batch));
    const width = this.width;
    return batch.map((_, i) => {
      const v = cls.data.slice(i * width, (i + 1) * width);
      return this.normalize ? l2Normalize(v) : v;
    });
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}

export function createWebBlipEmbedder(options: WebBlipEmbedderOptions): Promise<WebBlipEmbedder> {
  return WebBlipEmbedder.create(options);
}
