import type { Command } from '../cli/command';
import { loadOptions } from '../options/load-options';
import { TRAIN_OPTIONS_SCHEMA, type TrainOptions } from '../options/train-options';
import { NonFiniteLossError, RunFolderInUseError, trainDiffusion, type TrainEvent } from '../training/train-diffusion';
import { Progress } from '../ui/progress';
import { BACKEND_FLAG, ENGINE_FLAG, OPTION_FILE_FLAGS, collectSets, parseProviders } from './common';

export const trainCommand: Command = {
  spec: {
    name: 'train',
    summary: 'stage two: train the ConditionalUNet with IR-SDE on the refined semantic context',
    usage: 'srdiff train -opt train.yml [--set key=value ...] [--resume | --overwrite] [--max-steps N] [--minutes M]',
    options: {
      ...OPTION_FILE_FLAGS,
      resume: { type: 'boolean', description: "continue from the run folder's newest readable checkpoint (path.resume_state=auto); fails, listing why, when none is usable", default: false },
      overwrite: { type: 'boolean', description: 'replace a run already in the run folder: deletes its checkpoints, weights, metrics and validation images (without it such a folder is refused)', default: false },
      'max-steps': { type: 'number', integer: true, min: 1, description: 'stop (and checkpoint) after this many updates in this invocation' },
      minutes: { type: 'number', greaterThan: 0, description: 'stop (and checkpoint) after this much wall time' },
      backend: BACKEND_FLAG,
      engine: { ...ENGINE_FLAG, description: 'engine of the training steps and of validation sampling (train.engine and engine; auto = onnx when onnxruntime-node loads)' },
      providers: { type: 'string', valueName: 'LIST', description: "ONNX Runtime execution providers in order, e.g. cuda,cpu (train.providers; needs ORT's CUDA files: ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci)" },
      quiet: { type: 'boolean', description: 'no progress bar', default: false },
    },
    examples: [
      'srdiff train -opt options/train.yml',
      'srdiff train -opt options/train.yml --resume',
      'srdiff train -opt train.yml --set train.niter=2000 --set datasets.train.batch_size=8',
    ],
  },
  async run({ options: flags, out, log, signal }) {
    const { options, warnings } = loadOptions<TrainOptions>(
      TRAIN_OPTIONS_SCHEMA,
      flags.opt as string | undefined,
      {},
      collectSets(flags.set, {
        backend: flags.backend,
        engine: flags.engine,
        'train.engine': flags.engine,
        'train.providers': flags.providers === undefined ? undefined : parseProviders(flags.providers as string),
        'path.resume_state': flags.resume ? 'auto' : undefined,
      }),
    );
    warnings.forEach((w) => log(`warning: ${w}`));
    let progress: Progress | undefined;
    const onEvent = (e: TrainEvent) => {
      switch (e.type) {
        case 'start':
          log(`train: ${options.name} in ${e.runDir} — ${e.parameters.toLocaleString()} parameters, ${e.trainPairs} train / ${e.valPairs} val pairs, engine ${e.engineDescription}${e.resumedFrom ? `, resumed from ${e.resumedFrom} at step ${e.step}` : ''}`);
          progress = new Progress({ label: 'train', total: e.niter, start: e.step, quiet: flags.quiet as boolean });
          break;
        case 'step':
          progress?.update(e.step, { loss: e.loss, lr: e.lr });
          break;
        case 'validation': {
          const { mean, lqMean } = e.result;
          progress?.log(`val @${e.step}: PSNR ${mean.psnr.toFixed(2)} SSIM ${mean.ssim.toFixed(4)} (LQ ${lqMean.psnr.toFixed(2)} / ${lqMean.ssim.toFixed(4)})${e.best ? ' best' : ''} [${e.result.engine}, ${e.result.seconds.toFixed(0)} s]`);
          break;
        }
        case 'checkpoint':
          progress?.log(`checkpoint @${e.step}: ${e.file}`);
          break;
        case 'log':
          (progress ? progress.log.bind(progress) : log)(e.message);
      }
    };
    try {
      const result = await trainDiffusion({
        options,
        onEvent,
        signal,
        maxSteps: flags['max-steps'] as number | undefined,
        maxSeconds: flags.minutes !== undefined ? (flags.minutes as number) * 60 : undefined,
        overwrite: flags.overwrite as boolean,
      });
      progress?.finish();
      if (result.skipped.pairs.length) {
        out(`train: skipped ${result.skipped.pairs.length} unreadable pair(s) (datasets.train.on_error: skip; ${result.skipped.samples} sample(s) drawn from other pairs instead): ${result.skipped.pairs.join(', ')}`);
      }
      out(`train: ${result.reason === 'done' ? 'finished' : result.reason === 'interrupted' ? 'interrupted, checkpoint saved' : 'stopped at the budget, checkpoint saved'} at step ${result.step}; run folder ${result.runDir}`);
      if (result.best.psnr !== null) out(`train: best validation PSNR ${result.best.psnr.toFixed(2)} at step ${result.best.step}`);
      if (result.reason !== 'done') out(`train: continue with: srdiff train -opt ${flags.opt ?? '<options>'} --resume`);
      return result.reason === 'interrupted' ? 130 : 0;
    } catch (err) {
      progress?.finish();
      if (err instanceof NonFiniteLossError) {
        log(`train: ${err.message}`);
        return 1;
      }
      if (err instanceof RunFolderInUseError) {
        log(`train: ${err.message}`);
        return 2;
      }
      throw err;
    }
  },
};
