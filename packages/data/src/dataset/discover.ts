import fs from 'node:fs';
import path from 'node:path';
import { EMBEDDING_FILE_EXTENSIONS, findEmbeddingFile } from '@srdiff/core';
import { DatasetError, type DatasetProblem } from '../errors';
import { isImageFile } from '../io/formats';
import { readImageInfo, type ImageInfo } from '../io/decode';
import { mapLimit } from '@srdiff/core';

/** The four degradation tasks of the paper's universal setting (folder names of DESIGN §5). */
export const STANDARD_TASKS = ['hazy', 'low-light', 'rainy', 'motion-blurry'] as const;
export type Phase = 'train' | 'val';

/**
 * Which per-image embedding goes with a pair: `RestoreCLS` (the SRM-refined LQ embedding, what the
 * UNet is conditioned on), `LQCLS` (raw VLM embedding of the LQ image), `GTCLS`, none, or `auto`
 * (RestoreCLS when that folder exists, else LQCLS when it exists, else none).
 */
export type EmbeddingChoice = 'auto' | 'RestoreCLS' | 'LQCLS' | 'GTCLS' | 'none';
export const EMBEDDING_FOLDERS = ['RestoreCLS', 'LQCLS', 'GTCLS'] as const;

export interface ImagePair {
  /** Path of the image relative to its LQ/GT folder, without extension (`0001`, `sub/0001`). */
  name: string;
  task: string;
  lq: string;
  gt: string;
  /** Embedding file (`.npy`, or the original's `.pt`), when the dataset has embeddings. */
  embedding?: string;
  /** Size after EXIF orientation (0 when sizes were not checked). */
  width: number;
  height: number;
  /** Header information of both images, when sizes were checked (lets decoding skip the header read). */
  info?: { lq: ImageInfo; gt: ImageInfo };
}

export interface SkippedPair {
  task: string;
  name: string;
  problem: DatasetProblem;
  reason: string;
  files: string[];
}

export interface DatasetIndex {
  pairs: ImagePair[];
  skipped: SkippedPair[];
  tasks: string[];
  /** The embedding folder used (`RestoreCLS` / `LQCLS` / `GTCLS` / a directory), if any. */
  embeddings?: string;
}

/** The standard layout `root/{train,val}/<task>/{LQ,GT,…}`, one task or several (universal model). */
export interface LayoutSource {
  root: string;
  phase: Phase;
  /** Task folders to use; default every folder of `root/phase` that has LQ and GT. */
  tasks?: string[];
}

/** Two explicit folders, as the original options' `dataroot_LQ` / `dataroot_GT`. */
export interface FolderSource {
  dataroot_LQ: string;
  dataroot_GT: string;
  /** Folder of `<name>.npy` (or `<name>.pt`) embeddings; default: `auto` looks beside `dataroot_LQ` (../RestoreCLS, ../LQCLS). */
  embeddings_dir?: string;
  /** Task label of these pairs; default the name of the folder holding `dataroot_LQ`. */
  task?: string;
}

export type DatasetSource = LayoutSource | FolderSource;

/**
 * How the caller's users set the options an error message suggests, as the full phrase to print
 * (a CLI passes its YAML keys: `{ onInvalid: 'datasets.train.on_error: skip' }`). Default: this
 * API's own option names.
 */
export interface OptionHints {
  /** Leaving defective pairs out (default `onInvalid: 'skip'`). */
  onInvalid?: string;
  /** Padding images smaller than the patch (default `smallImages: 'pad'`). */
  smallImages?: string;
  /** Training without embeddings (default `embeddings: 'none'`). */
  embeddings?: string;
}

export const DEFAULT_HINTS: Required<OptionHints> = { onInvalid: "onInvalid: 'skip'", smallImages: "smallImages: 'pad'", embeddings: "embeddings: 'none'" };

export interface DiscoverOptions {
  embeddings?: EmbeddingChoice;
  /** `error` (default): any defect throws, naming the files. `skip`: defective pairs are left out and counted in one warning. */
  onInvalid?: 'error' | 'skip';
  /** Read every image header to compare LQ and GT sizes (default true; cheap: no pixel decoding). */
  checkSizes?: boolean;
  /** Receives the skip summary (default `console.warn`). */
  warn?: (message: string) => void;
  hints?: OptionHints;
}

interface TaskFolders {
  task: string;
  lqDir: string;
  gtDir: string;
  embeddingDir?: string;
  embeddingLabel?: string;
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** An image file of a dataset folder. */
export interface ListedImage {
  /** Path relative to the folder without extension, `/`-separated (`0001`, `sub/0001`): what pairs and names embeddings. */
  name: string;
  file: string;
}

/**
 * The image files under `dir` as discovery sees them — the one definition of "the images of a
 * folder" that extraction uses too, so both see the same pairs: recursive (sub-folders pair by
 * relative path), symlinked files and folders followed, hidden entries and non-images skipped,
 * sorted by relative path.
 */
export function listImageFiles(dir: string): ListedImage[] {
  const out: ListedImage[] = [];
  const visited = new Set<string>();
  const walk = (sub: string) => {
    // A symlink back up the tree would recurse for ever: each real folder is listed once.
    const real = fs.realpathSync(path.join(dir, sub));
    if (visited.has(real)) return;
    visited.add(real);
    const entries = fs.readdirSync(path.join(dir, sub), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const rel = sub ? `${sub}/${e.name}` : e.name;
      const full = path.join(dir, rel);
      // A symlink is what it points at; a broken one is listed as a file (decoding then names it).
      const folder = e.isDirectory() || (e.isSymbolicLink() && isDir(full));
      if (folder) walk(rel);
      else if (isImageFile(e.name)) out.push({ name: rel.slice(0, rel.length - path.extname(rel).length), file: full });
    }
  };
  walk('');
  return out;
}

/** Image files under `dir` grouped by name ({@link listImageFiles}): more than one file is a duplicate name. */
function listImages(dir: string): Map<string, string[]> {
  const byName = new Map<string, string[]>();
  for (const { name, file } of listImageFiles(dir)) {
    const list = byName.get(name) ?? [];
    list.push(file);
    byName.set(name, list);
  }
  return byName;
}

function pickEmbeddingDir(taskDir: string, choice: EmbeddingChoice): { dir?: string; label?: string } {
  if (choice === 'none') return {};
  if (choice !== 'auto') {
    const dir = path.join(taskDir, choice);
    if (!isDir(dir)) throw new DatasetError('missing-folder', `embeddings: ${choice} was requested but ${dir} does not exist`, [dir]);
    return { dir, label: choice };
  }
  for (const label of ['RestoreCLS', 'LQCLS'] as const) {
    const dir = path.join(taskDir, label);
    if (isDir(dir)) return { dir, label };
  }
  return {};
}

function resolveFolders(source: DatasetSource, choice: EmbeddingChoice): TaskFolders[] {
  if ('dataroot_LQ' in source) {
    for (const dir of [source.dataroot_LQ, source.dataroot_GT]) {
      if (!isDir(dir)) throw new DatasetError('missing-folder', `dataset folder ${dir} does not exist`, [dir]);
    }
    const parent = path.dirname(path.resolve(source.dataroot_LQ));
    let emb: { dir?: string; label?: string };
    if (source.embeddings_dir) {
      if (!isDir(source.embeddings_dir)) throw new DatasetError('missing-folder', `embeddings_dir ${source.embeddings_dir} does not exist`, [source.embeddings_dir]);
      emb = choice === 'none' ? {} : { dir: source.embeddings_dir, label: source.embeddings_dir };
    } else {
      emb = pickEmbeddingDir(parent, choice);
    }
    return [{ task: source.task ?? path.basename(parent), lqDir: source.dataroot_LQ, gtDir: source.dataroot_GT, embeddingDir: emb.dir, embeddingLabel: emb.label }];
  }
  const phaseDir = path.join(source.root, source.phase);
  if (!isDir(phaseDir)) {
    const hint = isDir(path.join(source.root, 'LQ')) ? ` (${source.root} holds LQ/ directly: pass { dataroot_LQ, dataroot_GT } instead)` : '';
    throw new DatasetError('missing-folder', `dataset folder ${phaseDir} does not exist; expected ${source.root}/{train,val}/<task>/{LQ,GT}${hint}`, [phaseDir]);
  }
  let tasks = source.tasks;
  if (!tasks || tasks.length === 0) {
    tasks = fs
      .readdirSync(phaseDir, { withFileTypes: true })
      .filter((e) => !e.name.startsWith('.') && isDir(path.join(phaseDir, e.name, 'LQ')) && isDir(path.join(phaseDir, e.name, 'GT')))
      .map((e) => e.name)
      .sort();
    if (tasks.length === 0) throw new DatasetError('empty', `no task folders with LQ/ and GT/ under ${phaseDir} (expected e.g. ${STANDARD_TASKS.join(', ')})`, [phaseDir]);
  }
  return tasks.map((task) => {
    const taskDir = path.join(phaseDir, task);
    for (const sub of ['LQ', 'GT']) {
      const dir = path.join(taskDir, sub);
      if (!isDir(dir)) throw new DatasetError('missing-folder', `task "${task}": folder ${dir} does not exist`, [dir]);
    }
    const emb = pickEmbeddingDir(taskDir, choice);
    return { task, lqDir: path.join(taskDir, 'LQ'), gtDir: path.join(taskDir, 'GT'), embeddingDir: emb.dir, embeddingLabel: emb.label };
  });
}

/** Pairs of one task folder by name; problems are reported, not thrown. */
function pairTask(folders: TaskFolders, problems: SkippedPair[]): ImagePair[] {
  const { task, lqDir, gtDir, embeddingDir } = folders;
  const lq = listImages(lqDir);
  const gt = listImages(gtDir);
  const pairs: ImagePair[] = [];
  const names = [...new Set([...lq.keys(), ...gt.keys()])].sort();
  for (const name of names) {
    const lqFiles = lq.get(name) ?? [];
    const gtFiles = gt.get(name) ?? [];
    const dup = lqFiles.length > 1 ? lqFiles : gtFiles.length > 1 ? gtFiles : undefined;
    if (dup) {
      problems.push({ task, name, problem: 'duplicate-name', reason: `duplicate image name "${name}": ${dup.join(' and ')}`, files: dup });
      continue;
    }
    if (lqFiles.length === 0 || gtFiles.length === 0) {
      const [have, missingDir] = lqFiles.length ? [lqFiles[0]!, gtDir] : [gtFiles[0]!, lqDir];
      problems.push({ task, name, problem: 'missing-partner', reason: `${have} has no partner: no image named "${name}" (any extension) in ${missingDir}`, files: [have] });
      continue;
    }
    const pair: ImagePair = { name, task, lq: lqFiles[0]!, gt: gtFiles[0]!, width: 0, height: 0 };
    if (embeddingDir) {
      let file: string | undefined;
      try {
        file = findEmbeddingFile(embeddingDir, name); // <name>.npy, or the original's <name>.pt
      } catch (err) {
        problems.push({ task, name, problem: 'duplicate-name', reason: (err as Error).message, files: EMBEDDING_FILE_EXTENSIONS.map((e) => path.join(embeddingDir, name + e)) });
        continue;
      }
      if (!file) {
        const expected = path.join(embeddingDir, `${name}.npy`);
        problems.push({ task, name, problem: 'missing-embedding', reason: `pair "${name}" (${pair.lq}) has no embedding ${expected} (or .pt)`, files: [pair.lq, expected] });
        continue;
      }
      pair.embedding = file;
    }
    pairs.push(pair);
  }
  return pairs;
}

async function checkPairSizes(pairs: ImagePair[], problems: SkippedPair[]): Promise<ImagePair[]> {
  const checked = await mapLimit<ImagePair, ImagePair | undefined>(pairs, 8, async (pair) => {
    try {
      const [a, b] = await Promise.all([readImageInfo(pair.lq), readImageInfo(pair.gt)]);
      if (a.width !== b.width || a.height !== b.height) {
        problems.push({
          task: pair.task,
          name: pair.name,
          problem: 'size-mismatch',
          reason: `size mismatch: LQ ${pair.lq} is ${a.width}×${a.height}, GT ${pair.gt} is ${b.width}×${b.height} (width×height)`,
          files: [pair.lq, pair.gt],
        });
        return undefined;
      }
      return { ...pair, width: b.width, height: b.height, info: { lq: a, gt: b } };
    } catch (err) {
      problems.push({ task: pair.task, name: pair.name, problem: 'unreadable', reason: (err as Error).message, files: [pair.lq, pair.gt] });
      return undefined;
    }
  });
  return checked.filter((p): p is ImagePair => p !== undefined);
}

function summarize(problems: SkippedPair[], limit = 10): string {
  const lines = problems.slice(0, limit).map((p) => `  [${p.task}] ${p.reason}`);
  if (problems.length > limit) lines.push(`  … and ${problems.length - limit} more`);
  return lines.join('\n');
}

/**
 * Finds the (LQ, GT) pairs of a dataset. Pairing is by file name without extension (`a.png` pairs
 * with `a.jpg`), never by sort order; sub-folders pair by relative path. Images are any format
 * this package decodes; other files and hidden entries are ignored.
 *
 * Defects — a name with no partner, two images with the same name in one folder, LQ and GT of
 * different sizes, an unreadable header, a missing embedding — throw one {@link DatasetError}
 * listing them with their files, or with `onInvalid: 'skip'` are left out and counted in a warning
 * (and returned in `skipped`).
 */
export async function discoverDataset(source: DatasetSource, options: DiscoverOptions = {}): Promise<DatasetIndex> {
  const choice = options.embeddings ?? 'auto';
  const hints = { ...DEFAULT_HINTS, ...options.hints };
  const folders = resolveFolders(source, choice);
  const labels = new Set(folders.map((f) => f.embeddingLabel ?? 'none'));
  if (labels.size > 1) {
    const detail = folders.map((f) => `${f.task}: ${f.embeddingLabel ?? 'none'}`).join(', ');
    throw new DatasetError('missing-embedding', `tasks disagree on embeddings (${detail}); a batch needs one kind for every pair — extract the missing ones or set ${hints.embeddings}`, folders.map((f) => f.embeddingDir ?? f.lqDir));
  }
  const problems: SkippedPair[] = [];
  let pairs = folders.flatMap((f) => pairTask(f, problems));
  if (options.checkSizes ?? true) pairs = await checkPairSizes(pairs, problems);
  problems.sort((a, b) => (a.task + a.name < b.task + b.name ? -1 : 1));

  if (problems.length > 0) {
    if ((options.onInvalid ?? 'error') === 'error') {
      const files = problems.flatMap((p) => p.files);
      throw new DatasetError(problems[0]!.problem, `${problems.length} dataset problem(s):\n${summarize(problems)}\n(${options.hints?.onInvalid ? 'set' : 'pass'} ${hints.onInvalid} to leave such pairs out)`, files);
    }
    const counts = new Map<string, number>();
    for (const p of problems) counts.set(p.problem, (counts.get(p.problem) ?? 0) + 1);
    const byKind = [...counts].map(([k, n]) => `${k}: ${n}`).join(', ');
    (options.warn ?? console.warn)(`srdiff/data: skipped ${problems.length} pair(s) (${byKind}); ${pairs.length} usable:\n${summarize(problems, 5)}`);
  }
  if (pairs.length === 0) {
    const where = folders.map((f) => `${f.lqDir} / ${f.gtDir}`).join(', ');
    throw new DatasetError('empty', `no usable image pairs in ${where}`, folders.flatMap((f) => [f.lqDir, f.gtDir]));
  }
  return { pairs, skipped: problems, tasks: folders.map((f) => f.task), embeddings: folders[0]!.embeddingLabel };
}
