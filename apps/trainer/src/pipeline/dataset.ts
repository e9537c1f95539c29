import fs from 'node:fs';
import path from 'node:path';
import { PairedDataset, type DatasetSource, type EmbeddingChoice } from '@srdiff/data';
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
function taskDirs(source: DatasetSource): string[] {
  if ('dataroot_LQ' in source) return [path.dirname(path.resolve(source.dataroot_LQ))];
  const phaseDir = path.join(source.root, source.phase);
  const tasks = source.tasks ?? (fs.existsSync(phaseDir) ? fs.readdirSync(phaseDir).filter((t) => fs.existsSync(path.join(phaseDir, t, 'LQ'))) : []);
  return tasks.map((t) => path.join(phaseDir, t));
}

const countNpy = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.npy')).length : 0);

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
    const images = fs.existsSync(path.join(dir, 'LQ')) ? fs.readdirSync(path.join(dir, 'LQ')).filter((f) => !f.startsWith('.')).length : 0;
    if (countNpy(want) >= images && images > 0) continue;
    if (context === 'LQCLS') throw new Error(`${want} is missing or incomplete: run "srdiff extract" first`);
    if (!countNpy(lqCls)) throw new Error(`${want} and ${lqCls} are missing: run "srdiff extract", then "srdiff refine" (or set srm.path)`);
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

/**
 * Opens a phase's paired dataset with its embeddings and checks their width against the UNet's
 * `context_dim` before any training starts.
 */
export async function openDataset(
  ds: DatasetOptions,
  phase: Phase,
  tasks: string[],
  setting: { context_dim: number; use_image_context: boolean },
  srmPath: string | null,
  log: (s: string) => void,
): Promise<PairedDataset> {
  const key = `datasets.${phase}`;
  const source = datasetSource(ds, phase, tasks, key);
  const embeddings = setting.use_image_context ? await prepareEmbeddings(source, ds.context, srmPath, log) : 'none';
  const dataset = await PairedDataset.open(source, { embeddings, warn: log });
  if (!dataset.length) throw new Error(`${key}: no image pairs found`);
  if (setting.use_image_context) {
    const first = await dataset.readEmbedding(0);
    if (!first) throw new Error(`${key}: pairs have no ${ds.context} embeddings`);
    if (first.length !== setting.context_dim) {
      throw new Error(
        `${key}: ${ds.context} embeddings are ${first.length} wide (${dataset.pairs[0]!.embedding}) but network_G.setting.context_dim is ${setting.context_dim}; ` +
          `set context_dim: ${first.length} or extract with a VLM of width ${setting.context_dim}`,
      );
    }
  }
  return dataset;
}
