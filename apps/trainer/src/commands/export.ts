import { selectBackend } from '@srdiff/core';
import { exportSrmOnnx, loadSrm } from '@srdiff/srm';
import { exportOnnx } from '@srdiff/unet';
import { UsageError } from '../cli/args';
import type { Command } from '../cli/command';
import { resolveUnetModel } from '../pipeline/resolve-model';
import { resolveSrmFile } from '../pipeline/srm-stage';
import { exportWeb } from '../pipeline/web-export';
import { BACKEND_FLAG } from './common';

export const exportCommand: Command = {
  spec: {
    name: 'export',
    summary: 'export the UNet (and the SRM) to ONNX for onnxruntime (node, web, CUDA)',
    usage: 'srdiff export --model <run|ckpt|weights> --out unet.onnx [--srm <path> --srm-out srm.onnx] | --web DIR --model <run> [--vlm ID] [--srm PATH | --no-srm]',
    options: {
      model: { type: 'string', valueName: 'PATH', description: 'run folder, checkpoint or UNet weights' },
      out: { type: 'string', valueName: 'FILE', description: 'ONNX file for the UNet', default: 'unet.onnx' },
      weights: { type: 'string', description: 'which weights of a run or checkpoint', choices: ['EMA', 'G'], default: 'EMA' },
      srm: { type: 'string', valueName: 'PATH', description: 'SRM run folder, weights or checkpoint to export as well' },
      'srm-out': { type: 'string', valueName: 'FILE', description: 'ONNX file for the SRM', default: 'srm.onnx' },
      backend: { ...BACKEND_FLAG, description: 'TensorFlow.js backend that reads the SRM weights', default: 'auto' },
      web: { type: 'string', valueName: 'DIR', description: 'write what the web app (apps/web) loads into DIR: UNet, SRM and VLM files and manifest.json (SDE, config); a new folder or a previous --web export' },
      vlm: { type: 'string', valueName: 'ID', description: "with --web: the VLM whose files to include (default: the run's; 'tiny' / 'tiny-blip' = bundled demo models)" },
      'no-srm': { type: 'boolean', description: 'with --web: no SRM (a model trained on raw LQCLS embeddings)', default: false },
      'unet-format': { type: 'string', description: 'with --web: the UNet as an ONNX graph, or its weights for the page to build the graph', choices: ['onnx', 'safetensors'], default: 'onnx' },
      'max-sigma': { type: 'number', greaterThan: 0, description: "with --web: the IR-SDE's max_sigma recorded in the manifest (default: the run's)" },
      steps: { type: 'number', integer: true, min: 1, description: 'with --web: the default number of sampling steps (default: the SDE sample_T, else T)' },
      description: { type: 'string', valueName: 'TEXT', description: 'with --web: what the model is, shown by the page' },
      offline: { type: 'boolean', description: 'never download the VLM', default: false },
    },
    examples: ['srdiff export --model runs/hazy --out hazy-unet.onnx --srm runs/srm --srm-out srm.onnx', 'srdiff export --web web-model/ --model runs/hazy --srm runs/srm'],
  },
  async run({ options, out, log }) {
    if (options.web !== undefined) {
      if (!options.model) throw new UsageError('--web needs --model (the run, checkpoint or weights to export)', 'export');
      await selectBackend(options.backend as 'auto');
      const manifest = await exportWeb(options.web as string, {
        model: options.model as string,
        weights: options.weights as 'EMA' | 'G',
        vlm: options.vlm as string | undefined,
        srm: options.srm as string | undefined,
        noSrm: options['no-srm'] as boolean,
        maxSigma: options['max-sigma'] as number | undefined,
        steps: options.steps as number | undefined,
        unetFormat: options['unet-format'] as 'onnx' | 'safetensors',
        description: options.description as string | undefined,
        offline: options.offline as boolean,
        log,
      });
      const bytes = Object.values(manifest.files).reduce((a, f) => a + f.bytes, 0);
      out(`web model (${manifest.source}) → ${options.web}: ${Object.keys(manifest.files).length} files, ${(bytes / 1e6).toFixed(1)} MB; unet ${manifest.unet.format}, ${manifest.vlm ? `${manifest.vlm.family} ${manifest.vlm.id}` : 'no VLM'}, ${manifest.srm ? 'SRM' : 'no SRM'}, ${manifest.sde.sampling_mode} in ${manifest.sde.steps} steps`);
      return 0;
    }
    const unetPath = options.model as string | undefined;
    const srmPath = options.srm as string | undefined;
    if (!unetPath && !srmPath) throw new UsageError('nothing to export: pass --model and/or --srm', 'export');
    if (unetPath && srmPath && options.out === options['srm-out']) {
      throw new UsageError(`--out and --srm-out are both ${options.out}: give the two ONNX files different names`, 'export');
    }
    // Both inputs are found before anything is written, so a wrong --srm leaves no half export.
    const srmFile = srmPath ? resolveSrmFile(srmPath) : undefined;
    const model = unetPath ? await resolveUnetModel(unetPath, undefined, options.weights as 'EMA' | 'G') : undefined;
    if (model) {
      const res = await exportOnnx(model.weights, model.config, options.out as string);
      out(`UNet (${model.source}) → ${res.path} (${(res.bytes / 1e6).toFixed(1)} MB); inputs xt, cond, time${model.config.use_image_context ? ', image_context' : ''}; output noise`);
    }
    if (srmFile) {
      // The SRM is a tfjs module: its engine must be initialised before the weights become tensors.
      await selectBackend(options.backend as 'auto');
      const srm = await loadSrm(srmFile);
      try {
        const res = await exportSrmOnnx(srm.stateDict(), srm.config, options['srm-out'] as string);
        out(`SRM (${srmFile}) → ${res.path} (${(res.bytes / 1e6).toFixed(1)} MB); input embedding, output refined`);
      } finally {
        srm.dispose();
      }
    }
    return 0;
  },
};
