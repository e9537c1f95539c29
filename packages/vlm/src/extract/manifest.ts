import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '@srdiff/core';
import type { ImageEmbedder } from '../embedder';

/**
 * `manifest.json` beside a folder of embedding `.npy` files: which model and settings made them,
 * so a cache made by another model (or output kind, normalisation, preprocessing) is detected
 * instead of silently mixed.
 */
export interface EmbeddingManifest {
  format: 'srdiff-embeddings';
  version: 1;
  /** The kind of model (`'clip'`, `'blip'`), when the embedder reports one. */
  family?: string;
  model: string;
  revision: string | null;
  output: string;
  normalize: boolean;
  preprocessing: string;
  settings: Record<string, string | number | boolean>;
  width: number;
  dtype: 'float32';
  /** Shape of each `.npy` file. */
  shape: number[];
  /** `.npy` files present for the images of the source folder. */
  count: number;
  /** Images in the source folder when last run. */
  images: number;
  /** All images have an embedding. */
  complete: boolean;
  /** Images that could not be decoded (last run, `onError: 'skip'`). */
  failures: { file: string; error: string }[];
  updated: string;
}

export const MANIFEST_FILE = 'manifest.json';

/** The keys that must agree for cached vectors to be reused. */
const IDENTITY_KEYS = ['model', 'revision', 'output', 'normalize', 'preprocessing', 'settings', 'width', 'dtype', 'shape'] as const;

export function manifestFor(embedder: ImageEmbedder, counts: { count: number; images: number; failures: { file: string; error: string }[] }): EmbeddingManifest {
  return {
    format: 'srdiff-embeddings',
    version: 1,
    ...(embedder.family ? { family: embedder.family } : {}),
    model: embedder.id,
    revision: embedder.revision,
    output: embedder.output,
    normalize: embedder.normalize,
    preprocessing: embedder.preprocessing,
    settings: { ...embedder.settings },
    width: embedder.width,
    dtype: 'float32',
    shape: [embedder.width],
    count: counts.count,
    images: counts.images,
    complete: counts.count === counts.images,
    failures: counts.failures,
    updated: new Date().toISOString(),
  };
}

export class ManifestMismatchError extends Error {
  constructor(
    readonly file: string,
    readonly differences: { key: string; cached: unknown; current: unknown }[],
  ) {
    super(
      `${file}: the embeddings in this folder were made with different settings ` +
        `(${differences.map((d) => `${d.key}: cached ${JSON.stringify(d.cached)}, now ${JSON.stringify(d.current)}`).join('; ')}). ` +
        `Pass overwrite: true to recompute them all, or choose another output folder.`,
    );
    this.name = 'ManifestMismatchError';
  }
}

export async function readManifest(outDir: string): Promise<EmbeddingManifest | undefined> {
  const file = path.join(outDir, MANIFEST_FILE);
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as EmbeddingManifest;
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message}); delete it or pass overwrite: true`);
  }
}

export function manifestDifferences(cached: EmbeddingManifest, current: EmbeddingManifest): { key: string; cached: unknown; current: unknown }[] {
  return IDENTITY_KEYS.filter((k) => JSON.stringify(cached[k] ?? null) !== JSON.stringify(current[k] ?? null)).map((key) => ({ key, cached: cached[key], current: current[key] }));
}

export async function writeManifest(outDir: string, manifest: EmbeddingManifest): Promise<void> {
  await writeFileAtomic(path.join(outDir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
}
