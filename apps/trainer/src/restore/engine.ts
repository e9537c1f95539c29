import fs from 'node:fs';
import path from 'node:path';
import { onnxRuntimeAvailable, type TensorDict } from '@srdiff/core';
import type { Denoiser } from '@srdiff/sde';
import { ConditionalUNet, OnnxUNet, ensureOnnxExport, unetDenoiser, unetToOnnxBytes, type UNetConfig } from '@srdiff/unet';
import { assetsDir } from '../pipeline/models';

/**
 * Where the UNet runs during sampling: `tfjs` (the training engine) or `onnx` (the same weights
 * exported to ONNX, on onnxruntime-node — far faster on CPUs). `auto` = onnx when onnxruntime-node
 * loads.
 */
export type EngineChoice = 'auto' | 'onnx' | 'tfjs';

export interface RestoreEngine {
  name: 'onnx' | 'tfjs';
  denoiser: Denoiser;
  dispose(): Promise<void>;
}

export interface EngineOptions {
  /** Cache the ONNX export here (rebuilt when the weights change); in memory when absent. */
  onnxCache?: string;
  /** ORT intra-op threads (default: all cores). */
  threads?: number;
  /** ORT execution providers in order, e.g. ['cuda', 'cpu']. */
  providers?: string[];
}

export function resolveEngine(choice: EngineChoice): 'onnx' | 'tfjs' {
  if (choice === 'tfjs') return 'tfjs';
  if (onnxRuntimeAvailable()) return 'onnx';
  if (choice === 'onnx') throw new Error('--engine onnx: onnxruntime-node is not installed (npm i onnxruntime-node), or use --engine tfjs');
  return 'tfjs';
}

/** Builds the denoiser for `weights` (PyTorch-layout UNet state dict) on the chosen engine. */
export async function createEngine(choice: EngineChoice, weights: TensorDict, config: UNetConfig, options: EngineOptions = {}): Promise<RestoreEngine> {
  const name = resolveEngine(choice);
  if (name === 'onnx') {
    const model = options.onnxCache
      ? (await ensureOnnxExport(options.onnxCache, weights, config)).path
      : unetToOnnxBytes(weights, config);
    const unet = await OnnxUNet.create(model, {
      threads: options.threads,
      executionProviders: options.providers as never,
    });
    return { name, denoiser: unet.denoiser() as Denoiser, dispose: () => unet.dispose() };
  }
  const unet = new ConditionalUNet(config);
  unet.loadStateDict(weights, { source: 'UNet weights' });
  unet.setTrainable(false);
  return {
    name,
    denoiser: unetDenoiser(unet),
    dispose: async () => unet.dispose(),
  };
}

/** `<checkpoint or weights>.onnx` beside the weights file. */
export function onnxCachePath(weightsFile: string): string {
  return path.join(path.dirname(weightsFile), `${path.basename(weightsFile).replace(/\.(safetensors|ckpt)$/, '')}.onnx`);
}

/**
 * The ONNX cache beside the weights when that folder is writable and is the user's own (else the
 * graph is built in memory): never inside an installed package or this package's bundled assets,
 * whose folders belong to npm and to the repository.
 */
export function writableCache(weightsFile: string): string | undefined {
  const dir = path.resolve(path.dirname(weightsFile));
  if (dir.split(path.sep).includes('node_modules') || isInside(dir, assetsDir())) return undefined;
  try {
    fs.accessSync(path.dirname(weightsFile), fs.constants.W_OK);
    return onnxCachePath(weightsFile);
  } catch {
    return undefined;
  }
}

const isInside = (dir: string, root: string) => {
  const rel = path.relative(path.resolve(root), dir);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};
