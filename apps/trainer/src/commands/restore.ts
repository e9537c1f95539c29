import fs from 'node:fs';
import path from 'node:path';
import { removeStaleTemporaries, selectBackend } from '@srdiff/core';
import { IMAGE_EXTENSIONS, readImage, readImageInfo, writeImage } from '@srdiff/data';
import { UsageError } from '../cli/args';
import type { Command } from '../cli/command';
import { defaultSdeSection, samplingSde } from '../options/package-options';
import { resolveUnetModel } from '../pipeline/resolve-model';
import { SemanticContext } from '../pipeline/semantic-context';
import { checkVlmAgainstRecord, readSrmEmbeddingOrigin } from '../pipeline/vlm';
import { createEngine, writableCache } from '../restore/engine';
import { nameFile } from '../restore/evaluate-dataset';
import { planOutputs } from '../restore/output-names';
import { checkPixelLimit, MAX_PIXELS_FLAG, maxPixelsFrom } from '../restore/pixel-limit';
import { restoreImage } from '../restore/restore-image';
import { Progress } from '../ui/progress';
import { BACKEND_FLAG, ENGINE_FLAG } from './common';

/** Tile edge for large images: bounds memory (one tile in flight) while keeping the UNet's receptive field. */
export const DEFAULT_TILE = 512;

export const restoreCommand: Command = {
  spec: {
    name: 'restore',
    summary: 'restore images without ground truth (any size: large images go tile by tile)',
    usage: 'srdiff restore <image|folder> --model <run|ckpt|weights> [--out DIR] [--steps N] [--engine onnx|tfjs]',
    positionals: ['image or folder'],
    options: {
      model: { type: 'string', valueName: 'PATH', description: 'run folder, checkpoint or UNet weights', required: true },
      out: { type: 'string', valueName: 'DIR', description: 'output folder (same names, PNG; inputs that share a name keep their extension: a.jpg.png); never an input is overwritten', default: 'restored' },
      vlm: { type: 'string', valueName: 'ID', description: "VLM for the semantic context, BLIP (Salesforce/blip-image-captioning-base, the paper's) or CLIP, by its config.json (default: the run's; 'tiny' / 'tiny-blip' = bundled demo models)" },
      srm: { type: 'string', valueName: 'PATH', description: "SRM refining the context (default: the run's srm.path)" },
      'no-srm': { type: 'boolean', description: 'use the raw VLM embedding (models trained on LQCLS)', default: false },
      mode: { type: 'string', description: 'reverse process', choices: ['posterior', 'sde', 'ode'] },
      steps: { type: 'number', integer: true, min: 1, description: 'sampling steps (default: the SDE T)' },
      'max-sigma': { type: 'number', greaterThan: 0, description: "the IR-SDE's max_sigma (default: the run's, else the schema's 10); the original's test.yml restores with 50" },
      seed: { type: 'number', integer: true, description: 'seed of the sampling noise', default: 0 },
      tile: { type: 'number', integer: true, min: 1, description: 'tile edge in pixels for large images', default: DEFAULT_TILE },
      overlap: { type: 'number', integer: true, min: 0, description: 'pixels shared (and blended) by neighbouring tiles', default: 32 },
      engine: { ...ENGINE_FLAG, default: 'auto' },
      backend: { ...BACKEND_FLAG, default: 'auto' },
      offline: { type: 'boolean', description: 'never download the VLM', default: false },
      'max-megapixels': MAX_PIXELS_FLAG,
    },
    examples: ['srdiff restore photo.jpg --model lastest_EMA.pth --srm best_model.pth --vlm Salesforce/blip-image-captioning-base --max-sigma 50', 'srdiff restore photo.jpg --model runs/hazy --out restored/', 'srdiff restore big.png --model unet.safetensors --srm srm.safetensors --vlm Xenova/clip-vit-base-patch32'],
  },
  async run({ options: flags, positionals, out, log, signal }) {
    const input = positionals[0]!;
    // Everything the flags alone decide is checked before any model loads.
    if ((flags.overlap as number) >= (flags.tile as number)) {
      throw new UsageError(`--overlap (${flags.overlap}) must be smaller than --tile (${flags.tile})`, 'restore');
    }
    const files = listInputs(input);
    // Before any model loads: where each output goes (never over an input) and what the images cost.
    const plan = planOutputs(files, flags.out as string, (m) => new UsageError(m));
    plan.renamed.forEach((r) => log(`restore: ${r}`));
    const infos = await Promise.all(files.map((file) => readImageInfo(file)));
    await selectBackend(flags.backend as 'auto');
    const model = await resolveUnetModel(flags.model as string);
    const run = model.runOptions;
    const sdeOptions = { ...(run?.sde ?? defaultSdeSection()), ...(flags['max-sigma'] !== undefined ? { max_sigma: flags['max-sigma'] as number } : {}) };
    const sde = samplingSde(sdeOptions, (flags.steps as number | undefined) ?? sdeOptions.sample_T);
    if (!run) log(`restore: ${model.source} carries no training options; using max_sigma ${sdeOptions.max_sigma}, T ${sdeOptions.T}, ${sdeOptions.schedule}`);
    checkPixelLimit(infos, maxPixelsFrom(flags['max-megapixels']), { tile: flags.tile as number, overlap: flags.overlap as number, steps: sde.steps });
    const stale = await removeStaleTemporaries(flags.out as string);
    if (stale.length) log(`restore: removed ${stale.length} temporary file(s) an interrupted run left in ${flags.out}`);

    let context: SemanticContext | undefined;
    if (model.config.use_image_context) {
      const vlm = (flags.vlm as string | undefined) ?? run?.vlm.model ?? undefined;
      if (!vlm) throw new Error('this model is guided by a VLM embedding: pass --vlm <the model its embeddings were extracted with>');
      const trainedOnRefined = (run?.datasets.train.context ?? 'RestoreCLS') === 'RestoreCLS';
      const srm = flags['no-srm'] ? undefined : ((flags.srm as string | undefined) ?? run?.srm.path ?? undefined);
      if (trainedOnRefined && !srm && !flags['no-srm']) throw new Error('this model was trained on SRM-refined embeddings (RestoreCLS): pass --srm <the SRM used by srdiff refine>, or --no-srm');
      // The UNet (and the SRM) were trained on one VLM's embeddings: another family is an error naming both.
      await checkVlmAgainstRecord(vlm, run?.vlm.model, `the model ${model.source}`, { offline: flags.offline as boolean, log });
      if (srm) await checkVlmAgainstRecord(vlm, readSrmEmbeddingOrigin(srm)?.model, `the SRM ${srm}`, { offline: flags.offline as boolean, log });
      context = await SemanticContext.create({ vlm, srm, offline: flags.offline as boolean, log });
      if (context.width !== model.config.context_dim) throw new Error(`the VLM gives ${context.width}-wide embeddings but the UNet expects context_dim ${model.config.context_dim}`);
    }
    const engine = await createEngine(flags.engine as 'auto', model.weights, model.config, { onnxCache: writableCache(model.source) });
    log(`restore: ${files.length} image(s), ${engine.name} engine, ${flags.mode ?? sdeOptions.sampling_mode} sampling in ${sde.steps} steps, tiles of ${flags.tile} px`);
    try {
      for (const { input: file, output: target } of plan.targets) {
        signal.throwIfAborted();
        const progress = new Progress({ label: path.basename(file), total: 100, unit: '%' });
        try {
          const image = await readImage(file);
          const embedding = context ? await context.embed(file) : undefined;
          const restored = await restoreImage(image, embedding, sde, engine, {
            method: (flags.mode as 'posterior' | undefined) ?? sdeOptions.sampling_mode,
            seed: flags.seed as number,
            tile: flags.tile as number,
            overlap: flags.overlap as number,
            signal,
            onStep: (done, total) => progress.update(Math.floor((100 * done) / total)),
          });
          progress.finish();
          await writeImage(target, restored);
        } catch (err) {
          progress.finish();
          throw signal.aborted ? err : nameFile(err as Error, file);
        }
        out(`${file} → ${target}`);
      }
    } finally {
      await engine.dispose();
      await context?.dispose();
    }
    return 0;
  },
};

function listInputs(input: string): string[] {
  if (!fs.existsSync(input)) throw new Error(`${input} does not exist`);
  if (!fs.statSync(input).isDirectory()) return [input];
  const files = fs.readdirSync(input).filter((f) => (IMAGE_EXTENSIONS as readonly string[]).includes(path.extname(f).toLowerCase())).sort().map((f) => path.join(input, f));
  if (!files.length) throw new Error(`${input} holds no images (${IMAGE_EXTENSIONS.join(', ')})`);
  return files;
}
