import path from 'node:path';
import fs from 'node:fs';
import { createClipExtractor } from '@srdiff/vlm';
import type { Command } from '../cli/command';
import { listTaskFolders } from '../pipeline/dataset-folders';
import { resolveVlmModel } from '../pipeline/models';
import { Progress } from '../ui/progress';

export const extractCommand: Command = {
  spec: {
    name: 'extract',
    summary: 'VLM (CLIP) embeddings of every LQ and GT image → LQCLS/, GTCLS/ (.npy, resumable)',
    usage: 'srdiff extract --data <datasets root> [--phase train,val] [--tasks hazy,...] [--model <hub id|folder|tiny>]',
    options: {
      data: { type: 'string', valueName: 'DIR', description: 'dataset root laid out as <root>/{train,val}/<task>/{LQ,GT}', required: true },
      phase: { type: 'string[]', valueName: 'LIST', description: 'phases to process', default: ['train', 'val'] },
      tasks: { type: 'string[]', valueName: 'LIST', description: 'task folders (default: all that have LQ/)' },
      model: { type: 'string', valueName: 'ID', description: 'CLIP model: hub id, local transformers.js folder, or "tiny" (bundled random model for demos)', default: 'Xenova/clip-vit-base-patch32' },
      output: { type: 'string', description: 'embedding kind', choices: ['image_embeds', 'pooled'], default: 'image_embeds' },
      normalize: { type: 'boolean', description: 'L2-normalise embeddings', default: false },
      preprocessing: { type: 'string', description: 'image preprocessing (python = identical to Hugging Face Python CLIP)', choices: ['python', 'transformers-js'], default: 'python' },
      'batch-size': { type: 'number', integer: true, min: 1, description: 'images per model call', default: 16 },
      gt: { type: 'boolean', description: 'also embed GT images (GTCLS/, needed by train-srm)', default: true },
      offline: { type: 'boolean', description: 'never download from the Hugging Face Hub', default: false },
      'cache-dir': { type: 'string', valueName: 'DIR', description: 'where downloaded models are cached' },
      overwrite: { type: 'boolean', description: 'recompute caches made with another model/settings', default: false },
      'on-error': { type: 'string', description: 'an unreadable image: stop, or skip it and report', choices: ['stop', 'skip'], default: 'stop' },
    },
    examples: ['srdiff extract --data datasets --model Xenova/clip-vit-base-patch32', 'srdiff extract --data /tmp/demo --model tiny --phase train'],
  },
  async run({ options, log, out, signal }) {
    const { model, note } = resolveVlmModel(options.model as string);
    if (note) log(`extract: ${note}`);
    const extractor = await createClipExtractor({
      model,
      output: options.output as 'image_embeds' | 'pooled',
      normalize: options.normalize as boolean,
      preprocessing: options.preprocessing as 'python' | 'transformers-js',
      allowRemote: !options.offline,
      cacheDir: options['cache-dir'] as string | undefined,
    });
    log(`extract: ${extractor.id} (${extractor.output}, width ${extractor.width})`);
    try {
      const folders = listTaskFolders(options.data as string, options.phase as string[], options.tasks as string[] | undefined);
      const jobs = folders.flatMap((f) => [
        { from: path.join(f.dir, 'LQ'), to: path.join(f.dir, 'LQCLS'), label: `${f.phase}/${f.task} LQ` },
        ...(options.gt && fs.existsSync(path.join(f.dir, 'GT')) ? [{ from: path.join(f.dir, 'GT'), to: path.join(f.dir, 'GTCLS'), label: `${f.phase}/${f.task} GT` }] : []),
      ]);
      let failed = 0;
      for (const job of jobs) {
        if (signal.aborted) break;
        let progress: Progress | undefined;
        const result = await extractor.extractFolder(job.from, job.to, {
          batchSize: options['batch-size'] as number,
          overwrite: options.overwrite as boolean,
          onError: options['on-error'] as 'stop' | 'skip',
          signal,
          onProgress: (p) => {
            progress ??= new Progress({ label: `extract ${job.label}`, total: p.total, unit: 'img', start: p.done });
            progress.update(p.done);
          },
        });
        progress?.finish();
        failed += result.failed.length;
        for (const f of result.failed) log(`  skipped ${f.file}: ${f.error}`);
        out(`${job.label}: ${result.written} embedded, ${result.skipped} already present, ${result.failed.length} failed → ${job.to}`);
      }
      return failed ? 1 : 0;
    } finally {
      await extractor.dispose();
    }
  },
};
