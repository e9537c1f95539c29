import fs from 'node:fs';
import path from 'node:path';
import { createEmbeddingPairs, readEmbeddingPairs, type EmbeddingPairs } from '@srdiff/srm';
import { listTaskFolders, type TaskFolder } from './dataset-folders';

/** File name of the frozen SRM weights inside an SRM run folder (written by `trainSrm`). */
export const SRM_WEIGHTS_NAME = 'srm.safetensors';

/**
 * (LQCLS, GTCLS) pairs of every task folder of a phase, concatenated (the universal model trains
 * one SRM on all degradations). Names are prefixed with the task so they stay unique.
 */
export async function readPhasePairs(root: string, phase: string, tasks?: string[]): Promise<EmbeddingPairs | undefined> {
  let folders: TaskFolder[];
  try {
    folders = listTaskFolders(root, [phase], tasks);
  } catch (err) {
    if (phase === 'val') return undefined;
    throw err;
  }
  const parts: EmbeddingPairs[] = [];
  for (const f of folders) {
    const lqDir = path.join(f.dir, 'LQCLS');
    const gtDir = path.join(f.dir, 'GTCLS');
    for (const d of [lqDir, gtDir]) {
      if (!fs.existsSync(d)) throw new Error(`${d} does not exist: run "srdiff extract --data ${root}" first`);
    }
    parts.push(await readEmbeddingPairs(lqDir, gtDir));
  }
  if (parts.length === 1) return parts[0];
  const dim = parts[0]!.dim;
  const lq: Float32Array[] = [];
  const gt: Float32Array[] = [];
  const names: string[] = [];
  parts.forEach((p, k) => {
    if (p.dim !== dim) throw new Error(`${folders[k]!.dir}: embeddings are ${p.dim} wide but ${folders[0]!.dir} has ${dim}; extract every task with the same model`);
    for (let i = 0; i < p.count; i++) {
      lq.push(p.lq.subarray(i * dim, (i + 1) * dim));
      gt.push(p.gt.subarray(i * dim, (i + 1) * dim));
      names.push(`${folders[k]!.task}/${p.names[i]}`);
    }
  });
  return createEmbeddingPairs(lq, gt, names);
}

/** Accepts an SRM weights file, a training checkpoint, or an SRM run folder (→ its srm.safetensors). */
export function resolveSrmFile(p: string): string {
  if (fs.existsSync(p) && fs.statSync(p).isDirectory()) {
    const f = path.join(p, SRM_WEIGHTS_NAME);
    if (!fs.existsSync(f)) throw new Error(`${p} is a folder without ${SRM_WEIGHTS_NAME}; pass the SRM run folder written by "srdiff train-srm" or a weights file`);
    return f;
  }
  if (!fs.existsSync(p)) throw new Error(`SRM weights ${p} do not exist`);
  return p;
}
