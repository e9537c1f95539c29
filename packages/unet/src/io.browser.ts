import { parseSafetensors, type TensorDict } from '@srdiff/core';
import type { UNetConfig } from './config';
import type { LoadedStateDict, StateDictSource } from './io';
import { readModelBytes } from './onnx/read-model-bytes';
import { configFromMetadata } from './weights-metadata';

export type { LoadedStateDict, StateDictSource };
export { CONFIG_METADATA_KEY } from './weights-metadata';

/*
 * Weights in a page (io.ts in Node): a string names a safetensors file by URL (fetched); PyTorch
 * `.pth` files need Node's reader. There is no file to write to.
 */

export async function readStateDict(source: StateDictSource): Promise<LoadedStateDict> {
  if (typeof source !== 'string') {
    if (source === null || typeof source !== 'object') throw new TypeError('ConditionalUNet.fromStateDict: expected a weights URL or a state dict object');
    return { tensors: source, source: 'the given state dict' };
  }
  const { tensors, metadata } = parseSafetensors(await readModelBytes(source), source);
  return { tensors, config: configFromMetadata(metadata, source), source };
}

export async function writeUnetWeights(file: string, _dict: TensorDict, _config: UNetConfig, _metadata: Record<string, string> = {}): Promise<void> {
  throw new Error(`writeUnetWeights(${file}): a browser has no files to write; serialise with serializeSafetensors and download the bytes`);
}
