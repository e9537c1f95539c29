import fs from 'node:fs';
import path from 'node:path';
import { readNpy, removeStaleTemporaries, writeNpy } from '@srdiff/core';
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

/**
 * `<name>.npy` for the image `<name>.<ext>`: the original's naming, pairs matched by name. `name`
 * keeps the image's sub-folders relative to the image folder (`sub/0001.png` → `sub/0001.npy`),
 * as dataset discovery pairs them.
 */
export function embeddingFileName(imageFile: string): string {
  return imageFile.slice(0, imageFile.length - path.extname(imageFile).length) + '.npy';
}

/**
 * Image files under `inDir`, relative, `/`-separated and sorted: recursive, symlinked files and
 * folders followed, hidden entries skipped — the listing `@srdiff/data`'s dataset discovery uses,
 * so extraction embeds every pair that discovery finds.
 */
export async function listImageFiles(inDir: string, extensions: readonly string[]): Promise<string[]> {
  const wanted = new Set(extensions.map((e) => e.toLowerCase()));
  const out: string[] = [];
  const visited = new Set<string>();
  const walk = async (sub: string) => {
    const dir = path.join(inDir, sub);
    let entries: fs.Dirent[];
    try {
      const real = await fs.promises.realpath(dir);
      if (visited.has(real)) return; // a symlink back up the tree
      visited.add(real);
      entries = await fs.promises.readdir(dir, { withFileTypes: true });
    } catch (err) {
      throw new Error(`@srdiff/vlm: cannot read image folder ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (e.name.startsWith('.')) continue;
      const rel = sub ? `${sub}/${e.name}` : e.name;
      const isFolder = e.isDirectory() || (e.isSymbolicLink() && (await fs.promises.stat(path.join(inDir, rel)).then((s) => s.isDirectory(), () => false)));
      if (isFolder) await walk(rel);
      else if (wanted.has(path.extname(e.name).toLowerCase())) out.push(rel);
    }
  };
  await walk('');
  return out.sort();
}

/** Refuses two images that would write one embedding file (`a.png` and `a.jpg`). */
function checkDistinctOutputs(inDir: string, files: readonly string[]): void {
  const byOutput = new Map<string, string>();
  for (const f of files) {
    const out = embeddingFileName(f);
    const other = byOutput.get(out);
    if (other) throw new Error(`@srdiff/vlm: ${path.join(inDir, other)} and ${path.join(inDir, f)} would both be embedded as ${out}; rename one`);
    byOutput.set(out, f);
  }
}

/**
 * The original code's `.pt` embeddings (`sr/getCLS.py`) in the output folder would end up beside
 * the `.npy` written here: two embeddings of one image, which every reader refuses. Which VLM made
 * them is unknown, so they are neither reused as this run's nor deleted: the user moves them.
 */
function refuseOriginalEmbeddings(outDir: string, files: readonly string[]): void {
  const clash = files.map((f) => path.join(outDir, `${f.slice(0, f.length - path.extname(f).length)}.pt`)).filter((f) => fs.existsSync(f));
  if (clash.length) {
    throw new Error(
      `@srdiff/vlm: ${outDir} already holds .pt embeddings (the original code's; ${clash.length} of these images, e.g. ${clash[0]}); srdiff reads them as they are — to extract anew, move them out of ${outDir} first`,
    );
  }
}

/**
 * Whether an embedding file from an earlier run can be kept: it parses, has the extractor's width
 * and holds only finite values. (Writes are atomic, so this only fails for files damaged or made by
 * something else — which a re-run then repairs instead of keeping.)
 */
async function reusable(file: string, width: number): Promise<boolean> {
  try {
    const t = await readNpy(file);
    return t.data.length === width && (t.shape.length === 1 || (t.shape.length === 2 && t.shape[0] === 1)) && t.data.every(Number.isFinite);
  } catch {
    return false;
  }
}

/**
 * Embeds every image under `inDir` — recursively, as dataset discovery lists them ({@link
 * listImageFiles}), or the relative paths in `options.images` — into `outDir/<name>.npy` (float32,
 * shape `[width]`, readable with `np.load`; sub-folders kept), each written atomically. Resumable:
 * with `skipExisting` (default) a re-run only computes the missing files and the damaged ones
 * (unreadable, wrong width, NaN/Inf). `manifest.json` records the model and settings; a folder made
 * with others is refused unless `overwrite` is set.
 */
export async function extractFolder(embedder: ImageEmbedder, inDir: string, outDir: string, options: ExtractFolderOptions = {}): Promise<ExtractFolderResult> {
  const batchSize = resolveBatchSize(options.batchSize);
  const onError = resolveOnError(options.onError);
  const skipExisting = options.skipExisting ?? EXTRACT_DEFAULTS.skipExisting;
  const overwrite = options.overwrite ?? EXTRACT_DEFAULTS.overwrite;
  const files = options.images ? [...options.images] : await listImageFiles(inDir, options.extensions ?? EXTRACT_DEFAULTS.extensions);
  checkDistinctOutputs(inDir, files);
  refuseOriginalEmbeddings(outDir, files);
  await fs.promises.mkdir(outDir, { recursive: true });
  // Temporaries of atomic writes whose writer was killed mid-write.
  await removeStaleTemporaries(outDir, { recursive: true, accept: (target) => target.endsWith('.npy') });

  const cached = await readManifest(outDir);
  const fresh = manifestFor(embedder, { count: 0, images: files.length, failures: [] });
  if (cached && !overwrite) {
    const differences = manifestDifferences(cached, fresh);
    if (differences.length) throw new ManifestMismatchError(path.join(outDir, MANIFEST_FILE), differences);
  }
  const reuse = skipExisting && !overwrite;
  const pending: LabelledSource[] = [];
  let present = 0;
  for (const [index, file] of files.entries()) {
    if (reuse && (await reusable(path.join(outDir, embeddingFileName(file)), embedder.width))) present++;
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
          const target = path.join(outDir, embeddingFileName(files[item.index]!));
          if (item.embedding) {
            if (!item.embedding.every(Number.isFinite)) throw new Error(`@srdiff/vlm: ${item.label}: ${embedder.id} gave a non-finite embedding; not written`);
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
