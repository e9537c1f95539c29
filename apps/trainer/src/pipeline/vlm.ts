import fs from 'node:fs';
import path from 'node:path';
import { findEmbeddingFile, writeFileAtomic } from '@srdiff/core';
import { listImageFiles } from '@srdiff/data';
import {
  assertOneEmbeddingOrigin,
  createImageEmbedder,
  describeOrigin,
  detectVlmFamily,
  MixedEmbeddingsError,
  sameOrigin,
  type AnyImageEmbedder,
  type EmbeddingOrigin,
  type VlmFamily,
} from '@srdiff/vlm';
import { resolveVlmModel } from './models';

/**
 * The VLM of every command: a CLIP or a BLIP (the paper's), told apart by its config.json
 * `model_type`, with the bundled tiny aliases; plus the bookkeeping that keeps one VLM's
 * embeddings from being used with another's.
 */

/** `--preprocessing` values of each family; the first is the default. */
export const VLM_PREPROCESSING: Record<VlmFamily, readonly string[]> = {
  clip: ['python', 'transformers-js'],
  blip: ['slow', 'fast'],
};

export interface OpenVlmOptions {
  /** Never download. */
  offline?: boolean;
  cacheDir?: string;
  /** A value of {@link VLM_PREPROCESSING} for the model's family (default: the family's first). */
  preprocessing?: string;
  /** CLIP's output kind; BLIP has one output (`decoder_cls`). */
  output?: 'image_embeds' | 'pooled';
  normalize?: boolean;
  /** The flag the user typed the model with, for hints (`--model`, `--vlm`). */
  flag?: string;
  log?: (s: string) => void;
}

/** Opens the VLM a flag names (hub id, folder, `tiny` / `tiny-blip`), CLIP or BLIP by its config. */
export async function openVlm(value: string, options: OpenVlmOptions = {}): Promise<AnyImageEmbedder> {
  const flag = options.flag ?? '--vlm';
  const { model, note } = resolveVlmModel(value, flag);
  if (note) options.log?.(note);
  const { family, reason } = await detectVlmFamily(model, { allowRemote: !options.offline, cacheDir: options.cacheDir });
  const allowed = VLM_PREPROCESSING[family];
  if (options.preprocessing !== undefined && !allowed.includes(options.preprocessing)) {
    const other = (Object.keys(VLM_PREPROCESSING) as VlmFamily[]).find((f) => VLM_PREPROCESSING[f].includes(options.preprocessing!));
    throw new Error(
      `--preprocessing ${options.preprocessing}${other ? ` is for ${other.toUpperCase()}` : ' is unknown'}; ${value} is a ${family.toUpperCase()} (${reason}): use ${allowed.join(' or ')}`,
    );
  }
  if (family === 'blip' && options.output === 'pooled') throw new Error(`--output pooled is CLIP's; ${value} is a BLIP, whose embedding is the text decoder's position-0 state`);
  return createImageEmbedder(model, {
    family,
    allowRemote: !options.offline,
    ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
    ...(options.normalize !== undefined ? { normalize: options.normalize } : {}),
    clip: { ...(options.output ? { output: options.output } : {}), ...(options.preprocessing ? { preprocessing: options.preprocessing as 'python' } : {}) },
    blip: options.preprocessing ? { preprocessing: options.preprocessing as 'slow' } : {},
  });
}

/** `blip 'Salesforce/blip-image-captioning-base' (768 wide)`. */
export function describeVlm(e: AnyImageEmbedder): string {
  return `${e.family} '${e.id}' (${e.width} wide)`;
}

/** The model id a flag value stands for (aliases resolved, folders absolute), for comparing with recorded ones. */
function canonicalModel(value: string): string {
  const { model } = resolveVlmModel(value);
  return fs.existsSync(model) ? path.resolve(model) : model;
}

async function familyOf(model: string, offline: boolean | undefined): Promise<VlmFamily | undefined> {
  try {
    return (await detectVlmFamily(resolveVlmModel(model).model, { allowRemote: !offline })).family;
  } catch {
    return undefined;
  }
}

/**
 * A model conditioned on one VLM's embeddings cannot take another's: `given` (the user's `--vlm`)
 * against `recorded` (the run's `vlm.model`, or an SRM's embeddings). Another family is an error
 * naming both; the same family under another id (a local copy of a hub model, say) is a warning.
 */
export async function checkVlmAgainstRecord(given: string, recorded: string | null | undefined, what: string, options: { offline?: boolean; log?: (s: string) => void } = {}): Promise<void> {
  if (!recorded || canonicalModel(given) === canonicalModel(recorded)) return;
  const [a, b] = await Promise.all([familyOf(given, options.offline), familyOf(recorded, options.offline)]);
  if (a && b && a !== b) {
    throw new Error(`--vlm ${given} is a ${a.toUpperCase()} but ${what} was trained on embeddings of the ${b.toUpperCase()} '${recorded}': embeddings of two VLMs cannot be mixed; pass --vlm ${recorded}`);
  }
  options.log?.(`warning: --vlm ${given} differs from '${recorded}', the VLM ${what} was trained with; make sure they are the same model`);
}

/**
 * Checks that the embedding folders used together came from one VLM (their manifests) and that it
 * is the one `recorded` says, if any; returns the model to record.
 */
export async function embeddingVlm(folders: readonly string[], recorded: string | null | undefined, what: string): Promise<string | null> {
  const origin = await assertOneEmbeddingOrigin(folders.filter((f) => fs.existsSync(f)));
  if (origin && recorded && canonicalModel(recorded) !== canonicalModel(origin.model)) {
    throw new Error(`${what} says its embeddings come from '${recorded}', but ${folders[0]} (and the folders with it) were made by ${describeOrigin(origin)}: embeddings of two VLMs cannot be mixed`);
  }
  return origin?.model ?? recorded ?? null;
}

/** File in an SRM run folder recording which VLM its training embeddings came from. */
export const SRM_EMBEDDINGS_FILE = 'embeddings.json';

export async function writeSrmEmbeddingOrigin(runDir: string, origin: EmbeddingOrigin): Promise<void> {
  await writeFileAtomic(path.join(runDir, SRM_EMBEDDINGS_FILE), `${JSON.stringify({ note: 'the VLM whose embeddings this SRM was trained on (LQCLS/GTCLS manifest.json)', ...origin }, null, 2)}\n`);
}

/** The origin recorded beside an SRM (its run folder's, or beside a weights file), if any. */
export function readSrmEmbeddingOrigin(srmPath: string): EmbeddingOrigin | undefined {
  const dir = fs.existsSync(srmPath) && fs.statSync(srmPath).isDirectory() ? srmPath : path.dirname(srmPath);
  const file = path.join(dir, SRM_EMBEDDINGS_FILE);
  if (!fs.existsSync(file)) return undefined;
  return JSON.parse(fs.readFileSync(file, 'utf8')) as EmbeddingOrigin;
}

/** Throws {@link MixedEmbeddingsError} when `folders`' embeddings are not those the SRM was trained on. */
export async function checkFoldersAgainstSrm(folders: readonly string[], srmPath: string): Promise<void> {
  const srmOrigin = readSrmEmbeddingOrigin(srmPath);
  const origin = await assertOneEmbeddingOrigin(folders.filter((f) => fs.existsSync(f)));
  if (srmOrigin && origin && !sameOrigin(srmOrigin, origin)) {
    throw new MixedEmbeddingsError({ folder: `the SRM ${srmPath}`, origin: srmOrigin }, { folder: folders[0]!, origin });
  }
}

/** Images of a folder (as dataset discovery lists them) that have no embedding file in `embeddingsDir` yet. */
function missingEmbeddings(imagesDir: string, embeddingsDir: string): number {
  if (!fs.existsSync(imagesDir)) return 0;
  return listImageFiles(imagesDir).filter((image) => !findEmbeddingFile(embeddingsDir, image.name)).length;
}

/**
 * Embeds the LQ images of each task folder that have no `LQCLS` file yet, with the VLM `open`
 * gives (opened once, only when something is missing). The cache's manifest makes a folder made
 * by another VLM an error naming both.
 */
export async function extractMissingLqEmbeddings(taskDirs: readonly string[], open: () => Promise<AnyImageEmbedder>, log: (s: string) => void, signal?: AbortSignal): Promise<void> {
  let vlm: AnyImageEmbedder | undefined;
  try {
    for (const dir of taskDirs) {
      const lq = path.join(dir, 'LQ');
      const lqCls = path.join(dir, 'LQCLS');
      if (!missingEmbeddings(lq, lqCls)) continue;
      vlm ??= await open();
      const res = await vlm.extractFolder(lq, lqCls, { signal });
      log(`embedded ${res.written} LQ image(s) of ${dir} with ${describeVlm(vlm)} → ${lqCls}`);
    }
  } finally {
    await vlm?.dispose();
  }
}

/**
 * Before a dataset is opened for testing or refinement: its `LQCLS` folders must all be one VLM's,
 * and that VLM must be `vlm` when given (the user's `--vlm` / `vlm.model`); LQ images without an
 * embedding are then embedded with it.
 */
export async function prepareLqEmbeddings(
  taskDirs: readonly string[],
  vlm: string | null | undefined,
  options: { offline?: boolean; log: (s: string) => void; signal?: AbortSignal; what?: string },
): Promise<void> {
  const lqCls = taskDirs.map((d) => path.join(d, 'LQCLS'));
  await embeddingVlm(lqCls, vlm, options.what ?? `--vlm ${vlm}`);
  if (vlm) await extractMissingLqEmbeddings(taskDirs, () => openVlm(vlm, { offline: options.offline, log: options.log }), options.log, options.signal);
}

/**
 * Before anything is embedded for an SRM: `vlm` must be the model the SRM's training embeddings
 * came from (its embeddings.json), else an error naming both.
 */
export function checkVlmAgainstSrm(vlm: string, srmPath: string): void {
  const origin = readSrmEmbeddingOrigin(srmPath);
  if (origin && canonicalModel(vlm) !== canonicalModel(origin.model)) {
    throw new Error(`the SRM ${srmPath} was trained on embeddings of ${describeOrigin(origin)}; --vlm ${vlm} is another model, and embeddings of two VLMs cannot be mixed: pass --vlm ${origin.model}`);
  }
}
