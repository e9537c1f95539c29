import fs from 'node:fs';
import path from 'node:path';
import { Rng, readSafetensors, selectBackend, tf, type BackendName, type HostTensor } from '@srdiff/core';
import { DEGRADATION_TASKS, PairedDataset, buildDegradedDataset, bundledCleanImagesDir, readImage, type DegradationTask, type TrainBatch } from '@srdiff/data';
import { IRSDE } from '@srdiff/sde';
import { refineFolder, trainSrm } from '@srdiff/srm';
import { ConditionalUNet, type UNetConfig } from '@srdiff/unet';
import type { Command } from '../cli/command';
import { loadOptions } from '../options/load-options';
import { irsdeOptions, samplingSde } from '../options/package-options';
import { TRAIN_OPTIONS_SCHEMA, type TrainOptions } from '../options/train-options';
import { bundledDemoUnet, resolveVlmModel, TINY_BLIP_ALIAS, TINY_CLIP_ALIAS } from '../pipeline/models';
import { describeVlm, openVlm } from '../pipeline/vlm';
import { readPhasePairs } from '../pipeline/srm-stage';
import { writeComparisonSheet } from '../pipeline/sheet';
import { createEngine } from '../restore/engine';
import { evaluateDataset, type DatasetEvaluation } from '../restore/evaluate-dataset';
import { restoreImage } from '../restore/restore-image';
import { startTrainingEngine } from '../training/engines';
import { trainDiffusion } from '../training/train-diffusion';
import { Progress, formatDuration } from '../ui/progress';
import { formatTable } from '../ui/table';

/**
 * The demo's network, data and SDE: small enough for every stage to run on 2 CPU cores in minutes.
 *
 * The SDE keeps the paper's max_sigma (10) but not its T (100) or eps (0.005). The x0 estimate
 * multiplies the network's noise error by σ̄_T / e^{-θ̄_T} = σ̄_T / eps: at eps 0.005 that is 7.8,
 * so an error of 0.01 in the (unit-variance) predicted noise moves x0 by 0.08, and a network
 * trained for minutes or an hour restores noise (measured: 5.5 dB after 625 steps). A larger eps
 * shrinks that factor but leaves eps·(x0 − mu) of the clean image in x_T, which training sees and
 * sampling (starting from mu + noise, as the original) does not: the product of the two effects
 * is |x0 − mu| whatever eps is (eps 0.1 restored 21 dB from a true x_T, 7 dB from mu + noise).
 * eps 0.05 is a middle point (factor 0.78, x_T mismatch ≈ 0.5 σ for |x0 − mu| = 0.4); eps 0.02
 * restored less after the same pretraining (assets/demo-unet/README.md). T 20 samples in 20
 * network calls.
 */
export const DEMO_DEFAULTS = {
  minutes: 8,
  crop: 128,
  perImage: 6,
  patch: 48,
  batch: 8,
  nf: 8,
  chMult: [1, 2, 4, 8],
  /** Learning rate from scratch, and when fine-tuning the bundled weights. */
  lr: 2e-3,
  fineTuneLr: 2e-4,
  valPerTask: 2,
  sde: { max_sigma: 10, T: 20, eps: 0.05, schedule: 'cosine' },
} as const;

/** `--init`: start the UNet from the bundled demo weights or from random ones. */
export const DEMO_INITS = ['bundled', 'scratch'] as const;

export const demoCommand: Command = {
  spec: {
    name: 'demo',
    summary: 'the whole pipeline at a tiny size on bundled photos: degrade, extract, train-srm, refine, train, test; prints a metrics table',
    usage: 'srdiff demo [--minutes 8] [--out demo-run] [--model tiny|tiny-blip|<hub id>] [--init bundled|scratch] [--tasks hazy,low-light,rainy,motion-blurry]',
    options: {
      minutes: { type: 'number', greaterThan: 0, description: 'wall-time budget for everything', default: DEMO_DEFAULTS.minutes },
      out: { type: 'string', valueName: 'DIR', description: 'working folder (dataset, runs, results, sheets)', default: 'demo-run' },
      model: { type: 'string', valueName: 'ID', description: "VLM: 'tiny' (bundled random CLIP, offline), 'tiny-blip' (bundled random BLIP, the paper's VLM at a tiny size, offline), or a real BLIP / CLIP hub id or folder", default: 'tiny' },
      tasks: { type: 'string[]', valueName: 'LIST', description: 'degradations', default: [...DEGRADATION_TASKS] },
      init: {
        type: 'string', valueName: 'FROM', default: 'bundled', choices: DEMO_INITS,
        description: "UNet start: 'bundled' (weights pretrained by srdiff train on this demo's train split, then fine-tuned here) or 'scratch' (random; minutes of CPU training restore little)",
      },
      seed: { type: 'number', integer: true, description: 'seed of everything', default: 0 },
      keep: { type: 'boolean', description: 'reuse an existing working folder instead of starting afresh', default: false },
      engine: { type: 'string', description: 'training engine: onnx (ONNX Runtime), tfjs, or auto (onnx when onnxruntime-node loads)', choices: ['auto', 'onnx', 'tfjs'], default: 'auto' },
    },
    examples: ['npm run demo', 'srdiff demo --minutes 5 --tasks low-light,hazy'],
  },
  async run({ options, out, log, signal }) {
    const started = Date.now();
    const budget = (options.minutes as number) * 60;
    const elapsed = () => (Date.now() - started) / 1000;
    const root = path.resolve(options.out as string);
    const tasks = options.tasks as DegradationTask[];
    for (const t of tasks) if (!DEGRADATION_TASKS.includes(t)) throw new Error(`unknown task "${t}"; known: ${DEGRADATION_TASKS.join(', ')}`);
    if (!options.keep) await fs.promises.rm(root, { recursive: true, force: true });
    const seed = options.seed as number;
    const backend = await selectBackend();
    log(`demo: budget ${formatDuration(budget)}, tfjs ${backend.description}, working folder ${root}`);

    // 1. Data: the bundled clean photos, cropped and degraded per task.
    const dataRoot = path.join(root, 'datasets');
    const built = fs.existsSync(path.join(dataRoot, 'manifest.json'))
      ? undefined
      : await buildDegradedDataset(bundledCleanImagesDir(), dataRoot, { tasks, perImage: DEMO_DEFAULTS.perImage, patchSize: DEMO_DEFAULTS.crop, seed, valFraction: 0.2, signal });
    if (built) log(`demo: dataset ${built.pairs} pairs (${Object.entries(built.psnr).map(([t, p]) => `${t} LQ ${p.mean.toFixed(1)} dB`).join(', ')})`);

    // 2. VLM embeddings.
    const bundledVlm = options.model === TINY_CLIP_ALIAS || options.model === TINY_BLIP_ALIAS;
    const { model: vlmModel } = resolveVlmModel(options.model as string);
    const vlm = await openVlm(options.model as string, { offline: bundledVlm, flag: '--model', log: (s) => log(`demo: ${s}`) });
    try {
      for (const phase of ['train', 'val']) {
        for (const task of tasks) {
          for (const [from, to] of [['LQ', 'LQCLS'], ['GT', 'GTCLS']]) {
            await vlm.extractFolder(path.join(dataRoot, phase, task, from!), path.join(dataRoot, phase, task, to!), { signal });
          }
        }
      }
    } finally {
      await vlm.dispose();
    }
    log(`demo: embeddings from ${describeVlm(vlm)} at ${formatDuration(elapsed())}`);

    // 3. SRM on (LQCLS, GTCLS), then RestoreCLS for every task folder.
    const srmDir = path.join(root, 'runs', 'srm');
    const srmData = (await readPhasePairs(dataRoot, 'train', tasks))!;
    const srmVal = await readPhasePairs(dataRoot, 'val', tasks);
    const srm = await trainSrm({
      data: srmData, valData: srmVal, outDir: srmDir, overwrite: true, epochs: 300, batchSize: 64, microBatchSize: 64,
      warmupSteps: 20, lr: 1e-3, seed, config: { hiddenDim: 64, numLayers: 2, numHeads: 4 }, signal,
    });
    const v = srm.finalValidation;
    log(`demo: SRM ${srm.steps} steps; val cosine to GT: refined ${v?.cosineRefined.toFixed(3) ?? '-'} vs raw LQ ${v?.cosineLq.toFixed(3) ?? '-'}`);
    srm.model.loadStateDict(srm.bestWeights);
    for (const phase of ['train', 'val']) {
      for (const task of tasks) await refineFolder(path.join(dataRoot, phase, task, 'LQCLS'), path.join(dataRoot, phase, task, 'RestoreCLS'), srm.model);
    }
    srm.model.dispose();

    // 4. The diffusion UNet, with the time left after reserving the test.
    const setting: UNetConfig = { in_nc: 3, out_nc: 3, nf: DEMO_DEFAULTS.nf, ch_mult: [...DEMO_DEFAULTS.chMult], context_dim: vlm.width, use_degra_context: false, use_image_context: true };
    const start = options.init === 'bundled' ? await bundledDemoUnet(setting, DEMO_DEFAULTS.sde) : { reason: '--init scratch' };
    log(start.file
      ? `demo: UNet starts from the bundled weights (${start.description}); fine-tuning them here`
      : `demo: UNet starts from random weights (${start.reason}); minutes of CPU training restore little, see README "The demo"`);
    const testReserve = await estimateTestSeconds(setting, tasks.length * DEMO_DEFAULTS.valPerTask, DEMO_DEFAULTS.crop);
    const runDir = path.join(root, 'runs', 'unet');
    const trainOptionsFor = (niter: number) => loadOptions<TrainOptions>(TRAIN_OPTIONS_SCHEMA, undefined, {
      name: 'demo',
      distortion: tasks,
      sde: DEMO_DEFAULTS.sde,
      datasets: { train: { dataroot: dataRoot, batch_size: DEMO_DEFAULTS.batch, patch_size: DEMO_DEFAULTS.patch, context: 'RestoreCLS' }, val: {} },
      network_G: { setting },
      srm: { path: srmDir },
      vlm: { model: bundledVlm ? (options.model as string) : vlmModel },
      path: { experiments_root: runDir, pretrain_model_G: start.file ?? null },
      train: { niter, lr_G: start.file ? DEMO_DEFAULTS.fineTuneLr : DEMO_DEFAULTS.lr, eta_min: 1e-5, manual_seed: seed, val_freq: niter + 1, engine: options.engine },
      logger: { print_freq: 10, save_checkpoint_freq: 100 },
    }).options;
    const probe = await measureTrainStep(trainOptionsFor(1), setting);
    const trainSeconds = Math.max(30, budget - elapsed() - testReserve.seconds - 20);
    const niter = Math.max(20, Math.floor(trainSeconds / probe.seconds));
    log(`demo: UNet nf ${setting.nf} on the ${probe.engine}: ~${probe.seconds.toFixed(3)} s per training step → ${niter} steps in ${formatDuration(trainSeconds)}; test reserve ${formatDuration(testReserve.seconds)} (${testReserve.engine})`);
    const trainOptions = trainOptionsFor(niter);
    const progress = new Progress({ label: 'demo train', total: niter });
    const trained = await trainDiffusion({
      options: trainOptions, signal, maxSeconds: trainSeconds + 30,
      onEvent: (e) => (e.type === 'step' ? progress.update(e.step, { loss: e.loss }) : undefined),
    });
    progress.finish();
    log(`demo: trained ${trained.step} steps (final loss ${trained.lastLoss?.toExponential(3) ?? '-'}) at ${formatDuration(elapsed())}`);

    // 5. Restore the val images with the EMA weights (ONNX Runtime when available) and measure.
    const weights = await readSafetensors(path.join(runDir, 'models', 'last_EMA.safetensors'));
    const engine = await createEngine('auto', weights.tensors, setting);
    const sde = demoSde();
    const results: Record<string, DatasetEvaluation> = {};
    try {
      for (const task of tasks) {
        const dataset = await PairedDataset.open({ root: dataRoot, phase: 'val', tasks: [task] }, { embeddings: 'RestoreCLS' });
        results[task] = await evaluateDataset(dataset, {
          sde, engine, method: 'posterior', seed, maxImages: DEMO_DEFAULTS.valPerTask, outDir: path.join(root, 'results'), signal,
        });
        const sheetRows: HostTensor[][] = [];
        for (const row of results[task]!.rows) {
          const pair = dataset.pairs.find((p) => p.name === row.name)!;
          const whole = await dataset.wholeSample(dataset.pairs.indexOf(pair));
          sheetRows.push([whole.lq, await readImage(row.file!), whole.gt]);
        }
        await writeComparisonSheet(path.join(root, 'sheets', `${task}.png`), sheetRows);
      }
    } finally {
      await engine.dispose();
    }

    const rows = tasks.map((t) => {
      const r = results[t]!;
      const gain = r.mean.psnr - r.lqMean.psnr;
      return [t, r.rows.length, r.lqMean.psnr.toFixed(2), r.mean.psnr.toFixed(2), `${gain >= 0 ? '+' : ''}${gain.toFixed(2)}`, r.lqMean.ssim.toFixed(4), r.mean.ssim.toFixed(4)];
    });
    out('');
    const origin = start.file ? `bundled weights (${start.description}) + ${trained.step} fine-tuning steps here` : `${trained.step} training steps from random weights`;
    out(`SR-Diff demo — UNet: ${origin}; ${engine.name} sampling (posterior, ${sde.steps} steps, single sample); VLM: ${options.model === TINY_CLIP_ALIAS ? 'tiny random CLIP' : options.model === TINY_BLIP_ALIAS ? 'tiny random BLIP' : vlm.id}`);
    out(formatTable(['task', 'images', 'PSNR LQ', 'PSNR restored', 'gain dB', 'SSIM LQ', 'SSIM restored'], rows));
    out(`Sheets (LQ | restored | GT): ${path.join(root, 'sheets')}/<task>.png; total time ${formatDuration(elapsed())}`);
    return 0;
  },
};

/**
 * Seconds one training step of this network takes here (5 timed steps after 3 warm-up steps), on the
 * engine `srdiff train` will use with these options (ONNX Runtime, or tfjs with its data-parallel
 * threads), including the optimizer update.
 */
async function measureTrainStep(options: TrainOptions, setting: UNetConfig): Promise<{ seconds: number; engine: string }> {
  const sdeOptions = irsdeOptions(options.sde);
  const backend = { backend: tf.getBackend() as BackendName, description: tf.getBackend() };
  const engine = await startTrainingEngine(new ConditionalUNet(setting), new IRSDE(sdeOptions), sdeOptions, options, backend);
  const rng = new Rng(1);
  const { batch_size: batch, patch_size: patch } = options.datasets.train;
  const image = (): HostTensor => ({ shape: [batch, patch, patch, 3], data: rng.uniformArray(batch * patch * patch * 3) });
  const run = () => engine.step({ lq: image(), gt: image(), embedding: { shape: [batch, setting.context_dim!], data: rng.normalArray(batch * setting.context_dim!) } } as TrainBatch, rng, 0);
  try {
    // ORT's first steps grow its memory arena: time the steady state.
    for (let i = 0; i < 3; i++) await run();
    const t0 = Date.now();
    for (let i = 0; i < 5; i++) await run();
    // Data loading and the EMA add a little.
    return { seconds: ((Date.now() - t0) / 5000) * 1.1, engine: engine.description };
  } finally {
    await engine.close();
  }
}

/** The demo's IR-SDE (DEMO_DEFAULTS.sde), sampled in all of its T steps. */
function demoSde(): IRSDE {
  return samplingSde({ ...DEMO_DEFAULTS.sde, sample_T: null });
}

/** Time to restore `images` crops of `size` px at the demo's steps (measured on the chosen engine). */
async function estimateTestSeconds(setting: UNetConfig, images: number, size: number): Promise<{ seconds: number; engine: string }> {
  const model = new ConditionalUNet(setting);
  const engine = await createEngine('auto', model.stateDict(), setting);
  model.dispose();
  try {
    const mu = { shape: [1, size, size, 3], data: new Float32Array(size * size * 3).fill(0.5) };
    const probeSteps = 4;
    const probe = demoSde().withSampleSteps(probeSteps);
    await restoreImage(mu, new Float32Array(setting.context_dim!), probe, engine, { method: 'posterior', seed: 0 });
    const t0 = Date.now();
    await restoreImage(mu, new Float32Array(setting.context_dim!), probe, engine, { method: 'posterior', seed: 0 });
    const perStep = (Date.now() - t0) / 1000 / probeSteps;
    return { seconds: perStep * DEMO_DEFAULTS.sde.T * images * 1.2 + 5, engine: engine.name };
  } finally {
    await engine.dispose();
  }
}
