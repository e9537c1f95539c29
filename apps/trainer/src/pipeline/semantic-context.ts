import type { AnyImageEmbedder } from '@srdiff/vlm';
import { loadSrm, refine, type SemanticRefinementModule } from '@srdiff/srm';
import { resolveSrmFile } from './srm-stage';
import { describeVlm, openVlm } from './vlm';

/**
 * The semantic guidance of one image at restore time, computed as in training: the VLM embeds the
 * degraded image, and the frozen SRM refines the embedding when the model was trained on
 * `RestoreCLS` (skipped for models trained on raw `LQCLS`).
 */
export class SemanticContext {
  private constructor(
    private readonly vlm: AnyImageEmbedder,
    private readonly srm: SemanticRefinementModule | undefined,
    readonly width: number,
    private readonly srmSource?: string,
  ) {}

  static async create(options: { vlm: string; srm?: string; offline?: boolean; log?: (s: string) => void }): Promise<SemanticContext> {
    // CLIP or BLIP (the paper's), by the model's config.json.
    const vlm = await openVlm(options.vlm, { offline: options.offline, flag: '--vlm', log: options.log });
    options.log?.(`VLM: ${describeVlm(vlm)}`);
    const srm = options.srm ? await loadSrm(resolveSrmFile(options.srm)) : undefined;
    if (srm && srm.config.inputDim !== vlm.width) {
      await vlm.dispose();
      srm.dispose();
      throw new Error(`the SRM takes ${srm.config.inputDim}-wide embeddings but ${vlm.id} produces ${vlm.width}; use the VLM the SRM was trained with`);
    }
    return new SemanticContext(vlm, srm, vlm.width, options.srm);
  }

  /** The context vector for an image file; a non-finite one (it would restore to NaN, i.e. black) is an error naming the file and its source. */
  async embed(file: string): Promise<Float32Array> {
    const [embedding] = await this.vlm.extract([file]);
    if (!embedding) throw new Error(`${file}: could not be embedded`);
    checkFiniteEmbedding(embedding, file, `the VLM ${this.vlm.id}`);
    if (!this.srm) return embedding;
    const refined = refine(this.srm, [embedding])[0]!;
    checkFiniteEmbedding(refined, file, `the SRM ${this.srmSource}`);
    return refined;
  }

  async dispose(): Promise<void> {
    await this.vlm.dispose();
    this.srm?.dispose();
  }
}

function checkFiniteEmbedding(e: Float32Array, file: string, source: string): void {
  const bad = e.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    throw new Error(`${file}: its semantic embedding from ${source} is not finite (${e[bad]} at index ${bad}); the restored image would be black — check that model's weights`);
  }
}
