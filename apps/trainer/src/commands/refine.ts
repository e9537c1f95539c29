import fs from 'node:fs';
import path from 'node:path';
import { selectBackend } from '@srdiff/core';
import { loadSrm, refineFolder } from '@srdiff/srm';
import type { Command } from '../cli/command';
import { listTaskFolders } from '../pipeline/dataset-folders';
import { resolveSrmFile } from '../pipeline/srm-stage';
import { checkFoldersAgainstSrm, checkVlmAgainstSrm, prepareLqEmbeddings } from '../pipeline/vlm';
import { Progress } from '../ui/progress';

export const refineCommand: Command = {
  spec: {
    name: 'refine',
    summary: "write the frozen SRM's refined embeddings: LQCLS/ → RestoreCLS/ for every task folder",
    usage: 'srdiff refine --data <datasets root> --srm <run dir|weights> [--phase train,val] [--vlm <id|folder>]',
    options: {
      data: { type: 'string', valueName: 'DIR', description: 'dataset root with <phase>/<task>/LQCLS', required: true },
      srm: { type: 'string', valueName: 'PATH', description: 'SRM run folder (from train-srm), weights or checkpoint', required: true },
      phase: { type: 'string[]', valueName: 'LIST', description: 'phases to process', default: ['train', 'val'] },
      tasks: { type: 'string[]', valueName: 'LIST', description: 'task folders (default: all)' },
      'batch-size': { type: 'number', integer: true, min: 1, description: 'embeddings per forward pass', default: 1024 },
      'skip-existing': { type: 'boolean', description: 'keep RestoreCLS files already written (resume)', default: false },
      vlm: { type: 'string', valueName: 'ID', description: "embed LQ images without LQCLS first with this VLM: BLIP (Salesforce/blip-image-captioning-base, the paper's) or CLIP, by its config.json; 'tiny' / 'tiny-blip' = bundled demo models" },
      offline: { type: 'boolean', description: 'never download the VLM', default: false },
      backend: { type: 'string', description: 'TensorFlow.js backend', choices: ['auto', 'tensorflow', 'wasm', 'cpu'], default: 'auto' },
    },
    examples: ['srdiff refine --data datasets --srm runs/srm', 'srdiff refine --data datasets --srm best_model.pth --vlm Salesforce/blip-image-captioning-base'],
  },
  async run({ options, out, log, signal }) {
    await selectBackend(options.backend as 'auto');
    const folders = listTaskFolders(options.data as string, options.phase as string[], options.tasks as string[] | undefined);
    // One VLM's embeddings throughout, the one given and the one the SRM was trained on.
    if (options.vlm) checkVlmAgainstSrm(options.vlm as string, options.srm as string);
    await prepareLqEmbeddings(folders.map((f) => f.dir), options.vlm as string | undefined, { offline: options.offline as boolean, log, signal });
    await checkFoldersAgainstSrm(folders.map((f) => path.join(f.dir, 'LQCLS')), options.srm as string);
    const model = await loadSrm(resolveSrmFile(options.srm as string));
    try {
      for (const f of folders) {
        const lqCls = path.join(f.dir, 'LQCLS');
        if (!fs.existsSync(lqCls)) throw new Error(`${lqCls} does not exist: run "srdiff extract" first`);
        let progress: Progress | undefined;
        const res = await refineFolder(lqCls, path.join(f.dir, 'RestoreCLS'), model, {
          batchSize: options['batch-size'] as number,
          skipExisting: options['skip-existing'] as boolean,
          signal,
          onProgress: ({ done, total }) => {
            progress ??= new Progress({ label: `refine ${f.phase}/${f.task}`, total, unit: 'emb' });
            progress.update(done);
          },
        });
        progress?.finish();
        out(`${f.phase}/${f.task}: ${res.written} refined, ${res.skipped} kept → ${res.outDir}`);
      }
    } finally {
      model.dispose();
    }
    return 0;
  },
};
