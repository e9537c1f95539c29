import fs from 'node:fs';
import path from 'node:path';
import { HF_WEIGHT_FILES, readStateDictFile, type TensorDict } from '@srdiff/core';
import { ModelNotFoundError } from '../clip/model-location';
import type { ModelFiles } from '../hub/model-files';
import { parseBlipPreprocessConfig, type BlipPreprocessConfig } from '../preprocess/blip-image-processor';
import { resolveBlipConfig, type BlipConfig } from './blip-config';
import { resolveClsTokenId } from './cls-token';

/**
 * Reads a `BlipForConditionalGeneration` checkpoint in the layout `save_pretrained` writes:
 * `config.json`, `preprocessor_config.json`, the tokenizer's `vocab.txt` / `tokenizer.json`
 * (+ `tokenizer_config.json`) and the weights: `model.safetensors` or `pytorch_model.bin` (a
 * `torch.save` file, read by `@srdiff/core` without Python), or the `.index.json` of either
 * when sharded, in the order transformers prefers them.
 */
export interface BlipCheckpoint {
  config: BlipConfig;
  preprocessConfig: BlipPreprocessConfig;
  clsTokenId: number;
  stateDict: TensorDict;
  /** The weights file(s) read. */
  weightsFiles: string[];
}

/** Weight files in the order they are tried (transformers' preference). */
export const BLIP_WEIGHT_FILES = HF_WEIGHT_FILES;

function howToProvide(files: ModelFiles): string {
  const hubId = files.source.kind === 'hub' ? files.source.id : 'Salesforce/blip-image-captioning-base';
  const name = hubId.split('/').pop();
  return (
    `To provide it, download it once while online, e.g.\n` +
    `  huggingface-cli download ${hubId} --local-dir ./models/${name}\n` +
    `  (or: git clone https://huggingface.co/${hubId} ./models/${name})\n` +
    `and pass model: './models/${name}'` +
    (files.source.kind === 'hub' && !files.allowRemote ? ', or allow downloads (allowRemote: true / drop --offline).' : '.')
  );
}

function missing(files: ModelFiles, what: string, tried: string[]): ModelNotFoundError {
  const where = files.source.kind === 'folder' ? `model folder ${files.source.folder}` : `BLIP model '${files.id}'${files.revision !== 'main' ? ` (revision ${files.revision})` : ''}`;
  const why = files.source.kind === 'hub' && !files.allowRemote ? ' is not available offline' : ' is incomplete';
  return new ModelNotFoundError(`@srdiff/vlm: ${where}${why}: no ${what}.\nLooked for:\n${tried.map((t) => `  ${t}`).join('\n')}\n${howToProvide(files)}`);
}

async function readJson(file: string): Promise<Record<string, unknown>> {
  try {
    const value = JSON.parse(await fs.promises.readFile(file, 'utf8')) as unknown;
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('not a JSON object');
    return value as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${file}: cannot read (${(err as Error).message})`, { cause: err });
  }
}

async function required(files: ModelFiles, file: string): Promise<string> {
  const found = await files.get(file);
  if (!found) throw missing(files, file, files.candidates(file));
  return found;
}

/** Reads one weights file, safetensors or `torch.save`, told apart by content. */
async function readWeightsFile(file: string): Promise<TensorDict> {
  return (await readStateDictFile(file)).tensors;
}

async function readWeights(files: ModelFiles): Promise<{ stateDict: TensorDict; weightsFiles: string[] }> {
  const tried: string[] = [];
  for (const name of BLIP_WEIGHT_FILES) {
    const file = await files.get(name);
    if (!file) {
      tried.push(...files.candidates(name));
      continue;
    }
    if (!name.endsWith('.index.json')) return { stateDict: await readWeightsFile(file), weightsFiles: [file] };
    // A sharded checkpoint: the index maps every key to its shard (fetched like any other file).
    const index = await readJson(file);
    const weightMap = index.weight_map as Record<string, string> | undefined;
    if (!weightMap || typeof weightMap !== 'object') throw new Error(`${file}: no weight_map`);
    const stateDict: TensorDict = {};
    const shardFiles: string[] = [];
    for (const shard of [...new Set(Object.values(weightMap))]) {
      const shardFile = await required(files, shard);
      Object.assign(stateDict, await readWeightsFile(shardFile));
      shardFiles.push(shardFile);
    }
    return { stateDict, weightsFiles: shardFiles };
  }
  throw missing(files, `weights (${BLIP_WEIGHT_FILES.join(', ')})`, tried);
}

/** Reads the tokenizer files that exist; at least one vocabulary is needed for the `[CLS]` id. */
async function readClsTokenId(files: ModelFiles): Promise<number> {
  const tokenizerConfig = await files.get('tokenizer_config.json');
  const vocab = await files.get('vocab.txt');
  const tokenizerJson = vocab ? undefined : await files.get('tokenizer.json');
  if (!vocab && !tokenizerJson) throw missing(files, 'tokenizer vocabulary (vocab.txt or tokenizer.json)', [...files.candidates('vocab.txt'), ...files.candidates('tokenizer.json')]);
  return resolveClsTokenId(
    {
      tokenizerConfig: tokenizerConfig ? await readJson(tokenizerConfig) : undefined,
      vocabTxt: vocab ? await fs.promises.readFile(vocab, 'utf8') : undefined,
      tokenizerJson: tokenizerJson ? await readJson(tokenizerJson) : undefined,
    },
    files.source.kind === 'folder' ? files.source.folder : files.id,
  );
}

/** Reads (downloading what is missing, when allowed) everything the BLIP embedder needs. */
export async function readBlipCheckpoint(files: ModelFiles): Promise<BlipCheckpoint> {
  const configFile = await required(files, 'config.json');
  const config = resolveBlipConfig(await readJson(configFile), configFile);
  const preprocessorFile = await required(files, 'preprocessor_config.json');
  const preprocessConfig = parseBlipPreprocessConfig(await readJson(preprocessorFile), preprocessorFile);
  const { width, height } = preprocessConfig.size;
  if (preprocessConfig.doResize && (width !== config.vision_config.image_size || height !== config.vision_config.image_size)) {
    throw new Error(
      `${preprocessorFile}: resizes to ${width}x${height} but ${path.basename(configFile)} has vision_config.image_size ${config.vision_config.image_size}; ` +
        'the vision model takes image_size² pixels (its position embeddings are that long)',
    );
  }
  const clsTokenId = await readClsTokenId(files);
  const { stateDict, weightsFiles } = await readWeights(files);
  return { config, preprocessConfig, clsTokenId, stateDict, weightsFiles };
}
