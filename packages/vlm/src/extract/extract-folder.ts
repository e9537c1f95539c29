import fs from 'node:fs';
import path from 'node:path';
import { serializeNpy, writeNpy } from '@srdiff/core';
import type { ImageEmbedder } from '../embedder';
import { EXTRACT_DEFAULTS, resolveBatchSize, resolveOnError, type ExtractFolderOptions } from '../options';
import { embedSources, type LabelledSource } from './embed-sources';
import { ManifestMismatchError, manifestDifferences, manifestFor, MANIFEST_FILE, readManifest, writeManifest, type EmbeddingManifest } from './manifest';

export interface ExtractFolderResult {
  outDir: string;
  /** Images found in the input folder. */
  total: number;
  /** `.npy` files written by this run. */
  written: number;
  /** Images whose `.npy` was already there (resumed). */
  skipped: number;
  /** Images that could not be decoded (only under `onError: 'skip'`). */
  failed: { file: string; error: string }[];
  manifest: EmbeddingManifest;
}

/** `<base>.npy` for `<base>.<ext>`: the original's naming, pairs matched by basename. */
export function embeddingFileName(imageFile: string): string {
  return path.basename(imageFile, path.extname(imageFile)) + '.npy';
}

async function listImages(inDir: string, extensions: readonly string[]): Promise<string[]> {
  let entries: fs.Dirent[];
  try {
    entries = await fs.promises.readdir(inDir, { withFileTypes: true });
  } catch (err) {
    throw new Error(`@srdiff/vlm: cannot read image folder ${inDir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const wanted = new Set(extensions.map((e) => e.toLowerCase()));
  const files = entries
    .filter((e) => e.isFile() && wanted.has(path.extname(e.name).toLowerCase()))
    .map((e) => e.name)
    .sort();
  const byOutput = new Map<string, string>();
  for (const f of files) {
    const out = embeddingFileName(f);
    const other = byOutput.get(out);
    if (other) throw new Error(`@srdiff/vlm: ${path.join(inDir, other)} and ${path.join(inDir, f)} would both be embedded as ${out}; rename one`);
    byOutput.set(out, f);
  }
  return files;
}

/** Temporary files of atomic writes whose writer died (e.g. killed mid-write). */
async function removeOrphanTempFiles(outDir: string): Promise<void> {
  for (const name of await fs.promises.readdir(outDir)) {
    const m = /^\..+\.npy\.(\d+)\.\d+\.[a-z0-9]*\.tmp$/.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') await fs.promises.rm(path.join(outDir, name), { force: true });
    }
  }
}

async function fileSize(file: string): Promise<number | undefined> {
  try {
    return (await fs.promises.stat(file)).size;
  } catch {
    return undefined;
  }
}

/**
 * Embeds every image of `inDir` (not recursive) into `outDir/<basename>.npy` (float32, shape
 * `[width]`, readable with `np.load`), each written atomically. Resumable: with `skipExisting`
 * (default) a re-run only computes the missing files. `manifest.json` records the model and
 * settings; a folder made with others is refused unless `overwrite` is set.
 */
export async function extractFolder(embedder: ImageEmbedder, inDir: string, outDir: string, options: ExtractFolderOptions = {}): Promise<ExtractFolderResult> {
  const batchSize = resolveBatchSize(options.batchSize);
  const onError = resolveOnError(options.onError);
  const skipExisting = options.skipExisting ?? EXTRACT_DEFAULTS.skipExisting;
  const overwrite = options.overwrite ?? EXTRACT_DEFAULTS.overwrite;
  const files = await listImages(inDir, options.extensions ?? EXTRACT_DEFAULTS.extensions);
  await fs.promises.mkdir(outDir, { recursive: true });
  await removeOrphanTempFiles(outDir);

  const cached = await readManifest(outDir);
  const fresh = manifestFor(embedder, { count: 0, images: files.length, failures: [] });
  if (cached && !overwrite) {
    const differences = manifestDifferences(cached, fresh);
    if (differences.length) throw new ManifestMismatchError(path.join(outDir, MANIFEST_FILE), differences);
  }
  const reuse = skipExisting && !overwrite;
  const npySize = serializeNpy({ shape: [embedder.width], data: new Float32Array(embedder.width) }).length;
  const pending: LabelledSource[] = [];
  let present = 0;
  for (const [index, file] of files.entries()) {
    // Writes are atomic, so a file of the right size is a complete one from an earlier run.
    if (reuse && (await fileSize(path.join(outDir, embeddingFileName(file)))) === npySize) present++;
    else pending.push({ index, source: path.join(inDir, file), label: path.join(inDir, file) });
  }
  // Written before any vector, so an interrupted run still leaves a manifest for its files.
  await writeManifest(outDir, { ...fresh, count: present });

  const failed: { file: string; error: string }[] = [];
  let written = 0;
  options.onProgress?.({ done: present, total: files.length, embedded: 0, failed: 0 });
  await embedSources(embedder, pending, {
    batchSize,
    onError,
    signal: options.signal,
    onBatch: async ({ items }) => {
      await Promise.all(
        items.map(async (item) => {
          const target = path.join(outDir, embeddingFileName(item.label));
          if (item.embedding) {
            await writeNpy(target, { shape: [item.embedding.length], data: item.embedding });
            written++;
          } else if (item.failure) {
            // A vector left from an earlier run would no longer match its (now unreadable) image.
            await fs.promises.rm(target, { force: true });
            failed.push({ file: item.label, error: item.failure.error.message });
            options.onSkip?.(item.failure);
          }
        }),
      );
      options.onProgress?.({ done: present + written + failed.length, total: files.length, embedded: written, failed: failed.length });
    },
  });
  const manifest = manifestFor(embedder, { count: present + written, images: files.length, failures: failed });
  await writeManifest(outDir, manifest);
  return { outDir, total: files.length, written, skipped: present, failed, manifest };
}
