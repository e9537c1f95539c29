import { readStateDictFile, type TensorDict, writeSafetensors } from '@srdiff/core';
import type { UNetConfig } from './config';
import { CONFIG_METADATA_KEY, configFromMetadata } from './weights-metadata';

export { CONFIG_METADATA_KEY } from './weights-metadata';

/**
 * A state dict: a weights file path (safetensors, or the original's `torch.save` file: `lastest_G.pth`,
 * `lastest_EMA.pth`, zip or legacy), or tensors already in memory (PyTorch names and layouts).
 */
export type StateDictSource = string | TensorDict;

export interface LoadedStateDict {
  tensors: TensorDict;
  /** The config recorded by {@link writeUnetWeights}, when the file has one. */
  config?: UNetConfig;
  /** Names the origin in error messages. */
  source: string;
}

/**
 * Reads a state dict from a file: safetensors, or the original's `.pth` directly (core's
 * `readStateDictFile`: no Python, any float dtype, a `module.` prefix of DataParallel stripped).
 */
export async function readStateDict(source: StateDictSource): Promise<LoadedStateDict> {
  if (typeof source !== 'string') {
    if (source === null || typeof source !== 'object') throw new TypeError('ConditionalUNet.fromStateDict: expected a weights file path or a state dict object');
    return { tensors: source, source: 'the given state dict' };
  }
  const { tensors, metadata } = await readStateDictFile(source);
  const config = configFromMetadata(metadata, source);
  return { tensors, config, source };
}

/**
 * Writes weights as safetensors, keys and layouts exactly as PyTorch's `model.state_dict()` (in its
 * order), so `safetensors.torch.load_file` + `model.load_state_dict` read them in Python; the config
 * rides along in the metadata. Atomic (temporary file + rename).
 */
export async function writeUnetWeights(file: string, dict: TensorDict, config: UNetConfig, metadata: Record<string, string> = {}): Promise<void> {
  await writeSafetensors(file, dict, { format: 'pt', ...metadata, [CONFIG_METADATA_KEY]: JSON.stringify(config) });
}
