import { selectBackend } from '@srdiff/core';
import { exportSrmOnnx, loadSrm } from '@srdiff/srm';
import { exportOnnx } from '@srdiff/unet';
import { UsageError } from '../cli/args';
import type { Command } from '../cli/command';
import { resolveUnetModel } from '../pipeline/resolve-model';
import { resolveSrmFile } from '../pipeline/srm-stage';
import { BACKEND_FLAG } from './common';

export const exportCommand: Command = {
  spec: {
    name: 'export',
    summary: 'export the UNet (and the SRM) to ONNX for onnxruntime (node, web, CUDA)',
    usage: 'srdiff export --model <run|ckpt|weights> --out unet.onnx [--srm <path> --srm-out srm.onnx]',
    options: {
      model: { type: 'string', valueName: 'PATH', description: 'run folder, checkpoint or UNet weights' },
      out: { type: 'string', valueName: 'FILE', description: 'ONNX file for the UNet', default: 'unet.onnx' },
      weights: { type: 'string', description: 'which weights of a run or checkpoint', choices: ['EMA', 'G'], default: 'EMA' },
      srm: { type: 'string', valueName: 'PATH', description: 'SRM run folder, weights or checkpoint to export as well' },
      'srm-out': { type: 'string', valueName: 'FILE', description: 'ONNX file for the SRM', default: 'srm.onnx' },
      backend: { ...BACKEND_FLAG, description: 'TensorFlow.js backend that reads the SRM weights', default: 'auto' },
    },
    examples: ['srdiff export --model runs/hazy --out hazy-unet.onnx --srm runs/srm --srm-out srm.onnx'],
  },
  async run({ options, out }) {
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
