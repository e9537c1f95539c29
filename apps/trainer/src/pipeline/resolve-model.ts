import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import type { TensorDict } from '@srdiff/core';
import { inferUnetConfig, readStateDict, resolveUnetConfig, type UNetConfig, type UNetOptions } from '@srdiff/unet';
import type { TrainOptions } from '../options/train-options';
import { loadDiffusionCheckpoint } from '../training/diffusion-checkpoint';

export interface ResolvedModel {
  weights: TensorDict;
  config: UNetConfig;
  /** The file the weights came from. */
  source: string;
  /** The training options of the run, when known (run folder or checkpoint). */
  runOptions?: TrainOptions;
}

/**
 * Finds UNet weights from what a user passes as `--model` (or `path.pretrain_model_G`): a run
 * folder (its best EMA weights, else the last ones), a training checkpoint (its EMA weights), the
 * original's `lastest_G.pth` / `lastest_EMA.pth` as they are, or a safetensors state dict (our
 * `models/*.safetensors`, or a converted `.pth`). The config comes from the file's
 * metadata, the run's options, `fallback` (network_G.setting of an options file), or is inferred
 * from the weights' shapes.
 */
export async function resolveUnetModel(p: string, fallback?: UNetOptions, which: 'EMA' | 'G' = 'EMA'): Promise<ResolvedModel> {
  if (!fs.existsSync(p)) throw new Error(`model ${p} does not exist (expected a run folder, a .ckpt checkpoint, a .safetensors file or an original .pth)`);
  if (fs.statSync(p).isDirectory()) {
    const candidates = [`best_${which}`, `last_${which}`].map((n) => path.join(p, 'models', `${n}.safetensors`));
    const file = candidates.find((f) => fs.existsSync(f));
    if (!file) throw new Error(`${p}: no models/best_${which}.safetensors or models/last_${which}.safetensors (is it a run folder of "srdiff train"?)`);
    const optionsFile = path.join(p, 'options.yml');
    const runOptions = fs.existsSync(optionsFile) ? (yaml.load(fs.readFileSync(optionsFile, 'utf8')) as TrainOptions) : undefined;
    const resolved = await fromWeightsFile(file, fallback ?? runOptions?.network_G.setting);
    return { ...resolved, runOptions };
  }
  if (p.endsWith('.ckpt')) {
    const ckpt = await loadDiffusionCheckpoint(p);
    return { weights: which === 'EMA' ? ckpt.groups.ema! : ckpt.groups.model!, config: ckpt.meta.unetConfig, source: p, runOptions: ckpt.meta.options as TrainOptions };
  }
  return fromWeightsFile(p, fallback);
}

async function fromWeightsFile(file: string, fallback?: UNetOptions): Promise<ResolvedModel> {
  const { tensors, config } = await readStateDict(file);
  const inferred = config ? resolveUnetConfig(config) : fallback ? resolveUnetConfig(fallback) : inferUnetConfig(tensors);
  if (!inferred) throw new Error(`${file}: cannot tell the network config from these weights; give network_G.setting in an options file`);
  return { weights: tensors, config: inferred, source: file };
}
