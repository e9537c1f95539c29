import path from 'node:path';
import { readManifest, type EmbeddingManifest } from './manifest';

/**
 * Which VLM made the embeddings of a folder (its `manifest.json`, written by `extractFolder`),
 * and the check that embeddings used together came from one VLM with one setting: vectors of two
 * models (or of one model preprocessed two ways) live in different spaces, and mixing them
 * trains or conditions on nonsense without any shape error.
 */
export interface EmbeddingOrigin {
  family?: string;
  model: string;
  revision: string | null;
  output: string;
  preprocessing: string;
  normalize: boolean;
  width: number;
}

/** The keys that must agree between folders used together. */
const ORIGIN_KEYS = ['family', 'model', 'revision', 'output', 'preprocessing', 'normalize', 'width'] as const;

export function originOf(manifest: EmbeddingManifest): EmbeddingOrigin {
  const { family, model, revision, output, preprocessing, normalize, width } = manifest;
  return { ...(family ? { family } : {}), model, revision, output, preprocessing, normalize, width };
}

/** `blip 'Salesforce/blip-image-captioning-base' (decoder_cls, slow preprocessing, 768 wide)`. */
export function describeOrigin(o: EmbeddingOrigin): string {
  const revision = o.revision && o.revision !== 'main' ? `@${o.revision}` : '';
  return `${o.family ? `${o.family} ` : ''}'${o.model}${revision}' (${o.output}, ${o.preprocessing} preprocessing${o.normalize ? ', normalised' : ''}, ${o.width} wide)`;
}

export class MixedEmbeddingsError extends Error {
  constructor(
    readonly first: { folder: string; origin: EmbeddingOrigin },
    readonly second: { folder: string; origin: EmbeddingOrigin },
  ) {
    super(
      `embeddings from two different VLMs would be mixed: ${first.folder} was made by ${describeOrigin(first.origin)}, ` +
        `${second.folder} by ${describeOrigin(second.origin)}. Re-extract one of them with the other's model and settings ` +
        '(srdiff extract --overwrite)',
    );
    this.name = 'MixedEmbeddingsError';
  }
}

/** Whether two origins are the same VLM with the same settings. */
export function sameOrigin(a: EmbeddingOrigin, b: EmbeddingOrigin): boolean {
  return ORIGIN_KEYS.every((k) => JSON.stringify(a[k] ?? null) === JSON.stringify(b[k] ?? null));
}

/**
 * Reads the manifests of `folders` (those without one — `.npy` files from elsewhere, the original's
 * `.pt` files — are not checked) and throws {@link MixedEmbeddingsError} naming the first two that
 * disagree. Returns the common origin, or undefined when no folder has a manifest.
 */
export async function assertOneEmbeddingOrigin(folders: readonly string[]): Promise<EmbeddingOrigin | undefined> {
  let first: { folder: string; origin: EmbeddingOrigin } | undefined;
  for (const folder of folders) {
    const manifest = await readManifest(folder);
    if (!manifest) continue;
    const origin = originOf(manifest);
    if (!first) first = { folder: path.resolve(folder), origin };
    else if (!sameOrigin(first.origin, origin)) throw new MixedEmbeddingsError(first, { folder: path.resolve(folder), origin });
  }
  return first?.origin;
}
