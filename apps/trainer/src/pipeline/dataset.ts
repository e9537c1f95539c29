import fs from 'node:fs';
import path from 'node:path';
import { findEmbeddingFile, isEmbeddingFileName } from '@srdiff/core';
import { DatasetError, PairedDataset, listImageFiles, type DatasetSource, type EmbeddingChoice, type OptionHints } from '@srdiff/data';
import { loadSrm, refineFolder } from '@srdiff/srm';
import type { DatasetOptions } from '../options/train-options';
import { resolveSrmFile } from './srm-stage';

export type Phase = 'train' | 'val';

/** The data source of `datasets.<phase>`: the standard layout (`dataroot` + tasks) or two folders. */
export function datasetSource(ds: DatasetOptions, phase: Phase, tasks: string[], key: string): DatasetSource {
  if (ds.dataroot_LQ || ds.dataroot_GT) {
    if (!ds.dataroot_LQ || !ds.dataroot_GT) throw new Error(`${key}: give both dataroot_LQ and dataroot_GT (or dataroot)`);
    return { dataroot_LQ: ds.dataroot_LQ, dataroot_GT: ds.dataroot_GT };
  }
  if (!ds.dataroot) throw new Error(`${key}: no data — set dataroot (the standard layout root) or dataroot_LQ + dataroot_GT`);
  return { root: ds.dataroot, phase, tasks: tasks.length ? tasks : undefined };
}

/** Task folders (holding LQ/, LQCLS/, RestoreCLS/) a source covers. */
export function taskDirs(source: DatasetSource): string[] {
  if ('dataroot_LQ' in source) return [path.dirname(path.resolve(source.dataroot_LQ))];
  const phaseDir = path.join(source.root, source.phase);
  const tasks = source.tasks ?? (fs.existsSync(phaseDir) ? fs.readdirSync(phaseDir).filter((t) => fs.existsSync(path.join(phaseDir, t, 'LQ'))) : []);
  return tasks.map((t) => path.join(phaseDir, t));
}

/** Embedding files of a folder: srdiff's `.npy` and the original's `.pt`. */
const countEmbeddings = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter(isEmbeddingFileName).length : 0);

/**
 * Makes sure the embeddings the UNet is conditioned on exist: `RestoreCLS/` is computed from
 * `LQCLS/` with the frozen SRM (`srm.path`) where it is missing or incomplete; `LQCLS` must exist.
 * Returns the folder name to pair images with.
 */
export async function prepareEmbeddings(
  source: DatasetSource,
  context: DatasetOptions['context'],
  srmPath: string | null,
  log: (s: string) => void,
): Promise<EmbeddingChoice> {
  for (const dir of taskDirs(source)) {
    const lqCls = path.join(dir, 'LQCLS');
    const want = path.join(dir, context);
    // Complete when every image discovery will pair (sub-folders, symlinks) has its file.
    const images = fs.existsSync(path.join(dir, 'LQ')) ? listImageFiles(path.join(dir, 'LQ')) : [];
    if (images.length > 0 && images.every((i) => findEmbeddingFile(want, i.name))) continue;
    if (context === 'LQCLS') throw new Error(`${want} is missing or incomplete: run "srdiff extract" first`);
    if (!countEmbeddings(lqCls)) throw new Error(`${want} and ${lqCls} are missing: run "srdiff extract", then "srdiff refine" (or set srm.path)`);
    if (!srmPath) throw new Error(`${want} is missing or incomplete: run "srdiff refine --srm <run>" or set srm.path so it is computed from ${lqCls}`);
    const srm = await loadSrm(resolveSrmFile(srmPath));
    try {
      const res = await refineFolder(lqCls, want, srm, { skipExisting: true });
      log(`refined ${res.written} embeddings of ${dir} with the frozen SRM → ${want}`);
    } finally {
      srm.dispose();
    }
  }
  return context;
}

/** Error hints in the YAML keys of `datasets.<key>` (what a CLI user sets), not the data package's API names. */
export function datasetHints(key: string): OptionHints {
  return { onInvalid: `${key}.on_error: skip`, smallImages: `${key}.small_images: pad`, embeddings: 'network_G.setting.use_image_context: false' };
}

/**
 * Opens a phase's paired dataset with its embeddings and checks them before any training or
 * testing starts: their width against the UNet's `context_dim`, and that every one is finite (a
 * NaN embedding makes every output NaN — black test images, a "non-finite loss" in training).
 * `key` names the options section in messages (default `datasets.<phase>`).
 */
export async function openDataset(
  ds: DatasetOptions,
  phase: Phase,
  tasks: string[],
  setting: { context_dim: number; use_image_context: boolean },
  srmPath: string | null,
  log: (s: string) => void,
  key = `datasets.${phase}`,
): Promise<PairedDataset> {
  const source = datasetSource(ds, phase, tasks, key);
  const embeddings = setting.use_image_context ? await prepareEmbeddings(source, ds.context, srmPath, log) : 'none';
  const onInvalid = ds.on_error === 'skip' ? 'skip' : 'error';
  const dataset = await PairedDataset.open(source, { embeddings, warn: log, onInvalid, hints: datasetHints(key) });
  if (!dataset.length) throw new Error(`${key}: no image pairs found`);
  if (setting.use_image_context) {
    const first = await dataset.readEmbedding(0).catch(() => undefined);
    if (first && first.length !== setting.context_dim) {
      throw new Error(
        `${key}: ${ds.context} embeddings are ${first.length} wide (${dataset.pairs[0]!.embedding}) but network_G.setting.context_dim is ${setting.context_dim}; ` +
          `set context_dim: ${first.length} or extract with a VLM of width ${setting.context_dim}`,
      );
    }
    await checkEmbeddings(dataset, ds, key, log);
  }
  return dataset;
}

/** How to recompute a bad embedding file of the given folder kind, in CLI terms. */
function recomputeHint(context: DatasetOptions['context']): string {
  return context === 'LQCLS'
    ? 'run "srdiff extract" again (it recomputes damaged embedding files)'
    : 'delete it and run "srdiff refine" again (it computes the missing files), or set srm.path so training computes it';
}

/**
 * Reads every embedding once (they are cached for training anyway) and refuses bad ones — wrong
 * shape, wrong width, NaN/Inf — listing the files; under `on_error: skip` they are reported and
 * their pairs are skipped when drawn.
 */
async function checkEmbeddings(dataset: PairedDataset, ds: DatasetOptions, key: string, log: (s: string) => void): Promise<void> {
  const width = (await dataset.readEmbedding(0).catch(() => undefined))?.length;
  const bad: string[] = [];
  const limit = 8;
  let next = 0;
  const worker = async () => {
    while (next < dataset.length) {
      const i = next++;
      try {
        const e = await dataset.readEmbedding(i);
        if (!e) bad.push(`pair ${dataset.pairs[i]!.lq} has no ${ds.context} embedding`);
        else if (width !== undefined && e.length !== width) bad.push(`${dataset.pairs[i]!.embedding}: ${e.length} values, other embeddings have ${width}`);
      } catch (err) {
        bad.push(err instanceof DatasetError || /\.(npy|pt)\b/.test((err as Error).message) ? (err as Error).message : `${dataset.pairs[i]!.embedding}: ${(err as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, dataset.length) }, worker));
  if (!bad.length) return;
  bad.sort();
  const shown = bad.slice(0, 10).map((b) => `  ${b}`).join('\n') + (bad.length > 10 ? `\n  … and ${bad.length - 10} more` : '');
  if (ds.on_error === 'skip') {
    log(`warning: ${key}: ${bad.length} unusable embedding(s); their pairs are skipped (${key}.on_error: skip):\n${shown}`);
    return;
  }
  throw new Error(`${key}: ${bad.length} unusable ${ds.context} embedding(s):\n${shown}\n${recomputeHint(ds.context)}; or set ${key}.on_error: skip to leave those pairs out`);
}
