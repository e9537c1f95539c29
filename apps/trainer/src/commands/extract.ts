import path from 'node:path';
import fs from 'node:fs';
import { listImageFiles } from '@srdiff/data';
import type { Command } from '../cli/command';
import { listTaskFolders } from '../pipeline/dataset-folders';
import { describeVlm, openVlm } from '../pipeline/vlm';
import { Progress } from '../ui/progress';

export const extractCommand: Command = {
  spec: {
    name: 'extract',
    summary: 'VLM (BLIP as the paper, or CLIP) embeddings of every LQ and GT image → LQCLS/, GTCLS/ (.npy, resumable)',
    usage: 'srdiff extract --data <datasets root> [--phase train,val] [--tasks hazy,...] [--model <hub id|folder|tiny|tiny-blip>]',
    options: {
      data: { type: 'string', valueName: 'DIR', description: 'dataset root laid out as <root>/{train,val}/<task>/{LQ,GT}', required: true },
      phase: { type: 'string[]', valueName: 'LIST', description: 'phases to process', default: ['train', 'val'] },
      tasks: { type: 'string[]', valueName: 'LIST', description: 'task folders (default: all that have LQ/)' },
      model: { type: 'string', valueName: 'ID', description: 'VLM: a BLIP (Salesforce/blip-image-captioning-base, the paper\'s) or CLIP hub id or local folder, told apart by its config.json; "tiny" / "tiny-blip" = bundled random models for demos', default: 'Xenova/clip-vit-base-patch32' },
      output: { type: 'string', description: 'CLIP embedding kind (default image_embeds; BLIP has one, the decoder position-0 state)', choices: ['image_embeds', 'pooled'] },
      normalize: { type: 'boolean', description: 'L2-normalise embeddings', default: false },
      preprocessing: { type: 'string', description: 'image preprocessing; CLIP: python (default, identical to Hugging Face Python) or transformers-js; BLIP: slow (default, BlipImageProcessor bit-exact) or fast (BlipImageProcessorFast, use_fast=True on transformers ≥ 4.50)', choices: ['python', 'transformers-js', 'slow', 'fast'] },
      'batch-size': { type: 'number', integer: true, min: 1, description: 'images per model call', default: 16 },
      gt: { type: 'boolean', description: 'also embed GT images (GTCLS/, needed by train-srm)', default: true },
      offline: { type: 'boolean', description: 'never download from the Hugging Face Hub', default: false },
      'cache-dir': { type: 'string', valueName: 'DIR', description: 'where downloaded models are cached' },
      overwrite: { type: 'boolean', description: 'recompute caches made with another model/settings', default: false },
      'on-error': { type: 'string', description: 'an unreadable image: stop, or skip it and report', choices: ['stop', 'skip'], default: 'stop' },
    },
    examples: ['srdiff extract --data datasets --model Salesforce/blip-image-captioning-base', 'srdiff extract --data datasets --model Xenova/clip-vit-base-patch32', 'srdiff extract --data /tmp/demo --model tiny --phase train'],
  },
  async run({ options, log, out, signal }) {
    // CLIP or BLIP (the paper's VLM), told apart by the model's config.json.
    const extractor = await openVlm(options.model as string, {
      output: options.output as 'image_embeds' | 'pooled' | undefined,
      normalize: options.normalize as boolean,
      preprocessing: options.preprocessing as string | undefined,
      offline: options.offline as boolean,
      cacheDir: options['cache-dir'] as string | undefined,
      flag: '--model',
      log: (s) => log(`extract: ${s}`),
    });
    log(`extract: ${describeVlm(extractor)}, ${extractor.output}, ${extractor.preprocessing} preprocessing`);
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
          // Exactly the images dataset discovery pairs (sub-folders, symlinks), so that training
          // never meets a pair "without an embedding" that extract did not see.
          images: listImageFiles(job.from).map((f) => path.relative(job.from, f.file)),
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
