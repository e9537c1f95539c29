import fs from 'node:fs';
import { CHECKPOINT_FORMAT, parseCheckpoint, parseSafetensors, readTorchFile, stripModulePrefix, torchFileFormat, torchStateDict, writeSafetensors, type TensorDict } from '@srdiff/core';
import { resolveSrmConfig, type SrmConfig } from '../config';
import { SemanticRefinementModule, type FromStateDictOptions } from '../models/semantic-refinement-module';

/** `__metadata__.format` of the plain-weights file. */
export const SRM_WEIGHTS_FORMAT = 'srdiff-srm-weights/1';

/** File name of the plain weights `trainSrm` writes beside its checkpoints. */
export const SRM_WEIGHTS_FILE = 'srm.safetensors';

/**
 * Writes the module's weights as a PyTorch-compatible safetensors state dict (float32, PyTorch names
 * and layouts): in Python, `CLSEnhancer(**cfg).load_state_dict(safetensors.torch.load_file(file))`.
 * The config goes into the file's metadata so {@link loadSrm} needs no arguments. Atomic.
 */
export async function saveSrmWeights(file: string, model: SemanticRefinementModule): Promise<void> {
  const c = model.config;
  const original = { input_dim: c.inputDim, hidden_dim: c.hiddenDim, num_layers: c.numLayers, num_heads: c.numHeads };
  await writeSafetensors(file, model.stateDict(), { format: SRM_WEIGHTS_FORMAT, config: JSON.stringify(c), clsenhancer_kwargs: JSON.stringify(original) });
}

/**
 * Loads an SRM from: the plain weights written by {@link saveSrmWeights}, a training checkpoint of
 * `trainSrm` (its `model` group), the original's own files read directly — `best_model.pth`
 * (`torch.save(model.state_dict())`) and the `{epoch, model_state_dict, optimizer_state_dict, loss}`
 * epoch checkpoints (their `model_state_dict`), zip or legacy format, any float dtype — or a state
 * dict converted to safetensors. A `module.` prefix (a DataParallel model's) is stripped. For the
 * original's files the shape is read off the weights and `numHeads` (not recoverable, irrelevant on
 * length-1 sequences) defaults to the original's 8.
 */
export async function loadSrm(file: string, options: Omit<FromStateDictOptions, 'source'> = {}): Promise<SemanticRefinementModule> {
  let bytes: Buffer;
  try {
    bytes = await fs.promises.readFile(file);
  } catch (err) {
    throw new Error(`${file}: cannot read SRM weights (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (torchFileFormat(bytes.subarray(0, 16))) {
    const { tensors } = torchStateDict(await readTorchFile(bytes, { source: file }), file);
    return build(stripModulePrefix(tensors).tensors, undefined, file, options);
  }
  const { tensors, metadata } = parseSafetensors(bytes, file);
  if (metadata.format === CHECKPOINT_FORMAT) {
    const ckpt = parseCheckpoint<{ config?: SrmConfig }>(bytes, file);
    const weights = ckpt.groups.model;
    if (!weights) throw new Error(`${file}: checkpoint has no "model" group (not an SRM training checkpoint)`);
    return build(weights, ckpt.meta.config, file, options);
  }
  let stored: Partial<SrmConfig> | undefined;
  if (metadata.config) {
    try {
      stored = JSON.parse(metadata.config) as Partial<SrmConfig>;
    } catch {
      throw new Error(`${file}: metadata "config" is not valid JSON`);
    }
  }
  return build(stored ? tensors : stripModulePrefix(tensors).tensors, stored, file, options);
}

function build(weights: TensorDict, stored: Partial<SrmConfig> | undefined, file: string, options: Omit<FromStateDictOptions, 'source'>): SemanticRefinementModule {
  if (!stored) return SemanticRefinementModule.fromStateDict(weights, { ...options, source: file });
  const model = new SemanticRefinementModule(resolveSrmConfig({ ...stored, ...(options.numHeads ? { numHeads: options.numHeads } : {}) }));
  try {
    model.loadStateDict(weights, { source: file });
  } catch (err) {
    model.dispose();
    throw err;
  }
  return model;
}
