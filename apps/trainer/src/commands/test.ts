import path from 'node:path';
import { removeStaleTemporaries, selectBackend } from '@srdiff/core';
import { UsageError } from '../cli/args';
import type { Command } from '../cli/command';
import { loadOptions } from '../options/load-options';
import { samplingSde } from '../options/package-options';
import { TEST_OPTIONS_SCHEMA, type TestOptions } from '../options/test-options';
import { datasetSource, openDataset, taskDirs, type Phase } from '../pipeline/dataset';
import { checkVlmAgainstRecord, prepareLqEmbeddings } from '../pipeline/vlm';
import { resolveUnetModel } from '../pipeline/resolve-model';
import { createEngine, writableCache } from '../restore/engine';
import { evaluateDataset, type DatasetEvaluation } from '../restore/evaluate-dataset';
import { writeEvaluationFiles } from '../restore/metrics-files';
import { checkPixelLimit, MAX_PIXELS_FLAG, maxPixelsFrom } from '../restore/pixel-limit';
import { checkRunName } from '../training/run-dir';
import { Progress } from '../ui/progress';
import { formatTable } from '../ui/table';
import { BACKEND_FLAG, ENGINE_FLAG, OPTION_FILE_FLAGS, collectSets } from './common';

export const testCommand: Command = {
  spec: {
    name: 'test',
    summary: 'restore a test set and report PSNR / SSIM / PSNR-Y / SSIM-Y per image and per task, beside the LQ baseline',
    usage: 'srdiff test [-opt test.yml] [--model <run|ckpt|weights>] [--data <root>] [--mode posterior|sde|ode] [--steps N] [--best-of N]',
    options: {
      ...OPTION_FILE_FLAGS,
      model: { type: 'string', valueName: 'PATH', description: 'run folder, checkpoint or UNet weights (overrides path.pretrain_model_G)' },
      data: { type: 'string', valueName: 'DIR', description: 'dataset root (standard layout) to test instead of the datasets of the options file' },
      phase: { type: 'string', description: 'phase folder of --data', default: 'val' },
      tasks: { type: 'string[]', valueName: 'LIST', description: 'task folders of --data (default: all)' },
      mode: { type: 'string', description: 'reverse process', choices: ['posterior', 'sde', 'ode'] },
      steps: { type: 'number', integer: true, min: 1, description: 'sampling steps (sde.sample_T; default T)' },
      'best-of': { type: 'number', integer: true, min: 1, description: 'samples per image, best PSNR vs GT kept — the original protocol (10); optimistic, labelled in the output' },
      seed: { type: 'number', integer: true, description: 'seed of the sampling noise' },
      out: { type: 'string', valueName: 'DIR', description: 'results folder (path.results_root)' },
      'max-images': { type: 'number', integer: true, min: 1, description: 'test at most this many images per set' },
      tile: { type: 'number', integer: true, min: 1, description: 'restore images larger than this in overlapping tiles' },
      srm: { type: 'string', valueName: 'PATH', description: 'SRM that computes RestoreCLS when a test set lacks it (srm.path)' },
      vlm: { type: 'string', valueName: 'ID', description: "VLM that embeds LQ images without LQCLS (vlm.model; default: the run's): BLIP (Salesforce/blip-image-captioning-base, the paper's) or CLIP, by its config.json; 'tiny' / 'tiny-blip' = bundled demo models" },
      offline: { type: 'boolean', description: 'never download the VLM', default: false },
      'max-megapixels': MAX_PIXELS_FLAG,
      backend: BACKEND_FLAG,
      engine: ENGINE_FLAG,
    },
    examples: ['srdiff test -opt test.yml --model lastest_EMA.pth --srm best_model.pth --vlm Salesforce/blip-image-captioning-base', 'srdiff test --model runs/hazy --data datasets', 'srdiff test -opt options/test.yml --best-of 10'],
  },
  async run({ options: flags, out, log, signal }) {
    const { options, raw, warnings } = loadOptions<TestOptions>(
      TEST_OPTIONS_SCHEMA,
      flags.opt as string | undefined,
      flags.data ? { datasets: { test: { name: 'test', dataroot: flags.data, max_images: flags['max-images'] } } } : {},
      collectSets(flags.set, {
        'path.pretrain_model_G': flags.model, 'sde.sampling_mode': flags.mode, 'sde.sample_T': flags.steps, 'test.best_of': flags['best-of'],
        'test.seed': flags.seed, 'path.results_root': flags.out, 'test.tile': flags.tile, 'srm.path': flags.srm, 'vlm.model': flags.vlm, backend: flags.backend, engine: flags.engine,
      }),
    );
    warnings.forEach((w) => log(`warning: ${w}`));
    checkRunName(options.name, flags.opt as string | undefined);
    if (!options.path.pretrain_model_G) throw new UsageError('no model: pass --model <run folder|checkpoint|weights> or set path.pretrain_model_G', 'test');
    // --data tests that folder alone, even when the options file (a run's options.yml, say) lists its own sets.
    const sets = flags.data ? [['test', options.datasets.test!] as const] : Object.entries(options.datasets);
    if (!sets.length) throw new UsageError('no test data: pass --data <root> or define datasets.<name> with dataroot or dataroot_LQ/dataroot_GT', 'test');
    const backend = await selectBackend(options.backend);
    const model = await resolveUnetModel(options.path.pretrain_model_G, raw.network_G ? options.network_G.setting : undefined);
    // A run's own SDE unless the options file sets one (the original's test.yml used max_sigma 50 against training's 10).
    const sdeOptions = raw.sde || !model.runOptions ? options.sde : { ...model.runOptions.sde, ...(options.sde.sample_T ? { sample_T: options.sde.sample_T } : {}), sampling_mode: options.sde.sampling_mode };
    const srmPath = options.srm.path ?? model.runOptions?.srm.path ?? null;
    // The VLM that embeds test images lacking LQCLS: the one given, else the one the run recorded.
    const vlmModel = options.vlm.model ?? model.runOptions?.vlm.model ?? null;
    if (options.vlm.model && model.config.use_image_context) await checkVlmAgainstRecord(options.vlm.model, model.runOptions?.vlm.model, `the model ${model.source}`, { offline: flags.offline as boolean, log });
    const sde = samplingSde(sdeOptions);
    const resultsRoot = options.path.results_root ?? path.join('results', options.name);
    const stale = await removeStaleTemporaries(resultsRoot, { recursive: true });
    if (stale.length) log(`test: removed ${stale.length} temporary file(s) an interrupted run left in ${resultsRoot}`);
    const engine = await createEngine(options.engine, model.weights, model.config, { onnxCache: writableCache(model.source) });
    log(`test: ${model.source} (nf ${model.config.nf}, context ${model.config.context_dim}), ${engine.name} engine, tfjs ${backend.description}, ${sdeOptions.sampling_mode} sampling in ${sde.steps} steps`);
    const results: Record<string, DatasetEvaluation> = {};
    try {
      for (const [name, ds] of sets) {
        const phase = (flags.data ? flags.phase : 'val') as Phase;
        if (model.config.use_image_context) {
          const dirs = taskDirs(datasetSource(ds, phase, options.distortion, `datasets.${name}`));
          await prepareLqEmbeddings(dirs, vlmModel, { offline: flags.offline as boolean, log, signal, what: options.vlm.model ? `--vlm ${vlmModel}` : `the model ${model.source} (vlm.model)` });
        }
        const dataset = await openDataset(ds, phase, options.distortion, model.config as never, srmPath, log, `datasets.${name}`);
        const total = Math.min(dataset.length, ds.max_images ?? Infinity);
        checkPixelLimit(dataset.pairs.slice(0, total).map((p) => ({ file: p.lq, width: p.width, height: p.height })), maxPixelsFrom(flags['max-megapixels']), { tile: options.test.tile ?? undefined, steps: sde.steps * options.test.best_of });
        const totalSteps = total * sde.steps * options.test.best_of;
        const progress = new Progress({ label: `test ${name}`, total: totalSteps, unit: 'step' });
        let imagesDone = 0;
        const evaluation = await evaluateDataset(dataset, {
          sde, engine, method: sdeOptions.sampling_mode, seed: options.test.seed, bestOf: options.test.best_of, cropBorder: options.test.crop_border,
          outDir: path.join(resultsRoot, name), tile: options.test.tile ?? undefined, maxImages: ds.max_images ?? undefined, signal,
          onSkip: ds.on_error === 'skip' ? (pair, err) => progress.log(`warning: skipping ${pair.lq} (${err.message}); datasets.${name}.on_error: skip`) : undefined,
          onStep: (done) => progress.update(Math.min(totalSteps, imagesDone * options.test.best_of * sde.steps + done)),
          onImage: (done, _total, row) => {
            imagesDone = done;
            progress.log(`${row.task}/${row.name}: PSNR ${row.psnr.toFixed(2)} (LQ ${row.lq.psnr.toFixed(2)})  SSIM ${row.ssim.toFixed(4)} (LQ ${row.lq.ssim.toFixed(4)})`);
          },
        });
        progress.finish();
        results[name] = evaluation;
        out(reportEvaluation(name, evaluation, options.test.crop_border));
        await writeEvaluationFiles(path.join(resultsRoot, name), evaluation, { model: model.source, engine: engine.name, sde: sdeOptions, steps: sde.steps, crop_border: options.test.crop_border, seed: options.test.seed });
      }
    } finally {
      await engine.dispose();
    }
    out(`test: restored images, metrics.json and metrics.csv in ${resultsRoot}`);
    return 0;
  },
};

/** Per-task table, restored vs LQ, labelled with the sampling protocol. */
export function reportEvaluation(name: string, e: DatasetEvaluation, crop: number): string {
  const protocol = e.bestOf > 1 ? `BEST OF ${e.bestOf} samples per image, chosen by PSNR against the GT (the original's optimistic protocol)` : 'single sample per image';
  const rows = Object.entries(e.byTask).map(([task, s]) => [task, s.count, s.lqMean.psnr, s.mean.psnr, s.lqMean.ssim, s.mean.ssim, s.mean.psnrY, s.mean.ssimY]);
  rows.push(['all', e.rows.length, e.lqMean.psnr, e.mean.psnr, e.lqMean.ssim, e.mean.ssim, e.mean.psnrY, e.mean.ssimY]);
  return [
    `${name}: ${protocol}; crop border ${crop}; ${e.seconds.toFixed(0)} s`,
    formatTable(['task', 'images', 'PSNR LQ', 'PSNR restored', 'SSIM LQ', 'SSIM restored', 'PSNR-Y', 'SSIM-Y'], rows),
  ].join('\n');
}
