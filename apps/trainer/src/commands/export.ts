import { exportSrmOnnx, loadSrm } from '@srdiff/srm';
import { exportOnnx } from '@srdiff/unet';
import type { Command } from '../cli/command';
import { resolveUnetModel } from '../pipeline/resolve-model';
import { resolveSrmFile } from '../pipeline/srm-stage';

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
    },
    examples: ['srdiff export --model runs/hazy --out hazy-unet.onnx --srm runs/srm --srm-out srm.onnx'],
  },
  async run({ options, out }) {
    if (!options.model && !options.srm) throw new Error('nothing to export: pass --model and/or --srm');
    if (options.model) {
      const model = await resolveUnetModel(options.model as string, undefined, options.weights as 'EMA' | 'G');
      const res = await exportOnnx(model.weights, model.config, options.out as string);
      out(`UNet (${model.source}) → ${res.path} (${(res.bytes / 1e6).toFixed(1)} MB); inputs xt, cond, time${model.config.use_image_context ? ', image_context' : ''}; output noise`);
    }
    if (options.srm) {
      const srm = await loadSrm(resolveSrmFile(options.srm as string));
      try {
        const res = await exportSrmOnnx(srm.stateDict(), srm.config, options['srm-out'] as string);
        out(`SRM → ${res.path} (${(res.bytes / 1e6).toFixed(1)} MB); input embedding, output refined`);
      } finally {
        srm.dispose();
      }
    }
    return 0;
  },
};
