import fs from 'node:fs';
import path from 'node:path';
import type { TensorDict } from './host-tensor';
import { parseSafetensors } from './safetensors';
import { readTorchFile, torchFileFormat } from './torch/read-torch-file';
import { stripModulePrefix, torchStateDict } from './torch/torch-state-dict';

/**
 * One entry point for weights in any of the files PyTorch users have: safetensors, a `torch.save`
 * state dict (`.pth`, `.pt`, `pytorch_model.bin`, zip or legacy), a checkpoint holding one under
 * `model_state_dict`, or a Hugging Face model folder. The format is told by content, not name.
 */

export type StateDictFormat = 'safetensors' | 'torch-zip' | 'torch-legacy';

export interface StateDictFile {
  tensors: TensorDict;
  /** safetensors `__metadata__` (empty for torch files). */
  metadata: Record<string, string>;
  format: StateDictFormat;
  /** The file(s) read. */
  files: string[];
  /** The checkpoint key the weights came from (e.g. `model_state_dict`), when not a bare state dict. */
  key?: string;
  /** True when a `module.` prefix (DataParallel) was stripped from every key. */
  strippedModulePrefix: boolean;
}

export interface ReadStateDictOptions {
  /** Strip a `module.` prefix present on every key (default true); see {@link stripModulePrefix}. */
  stripModulePrefix?: boolean;
}

/**
 * Hugging Face's weight files in a model folder, in the order `transformers` prefers them; the
 * `.index.json` variants list the shards of a large model.
 */
export const HF_WEIGHT_FILES = ['model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin', 'pytorch_model.bin.index.json'] as const;

/** safetensors starts with an 8-byte little-endian header length (< 2⁴⁰ in practice) and then `{`. */
export function looksLikeSafetensors(head: Uint8Array): boolean {
  return head.length >= 9 && head[8] === 0x7b && head[5] === 0 && head[6] === 0 && head[7] === 0;
}

async function readHead(file: string): Promise<Uint8Array> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, 'r');
  } catch (err) {
    throw new Error(`${file}: cannot read weights (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  try {
    const head = new Uint8Array(16);
    const { bytesRead } = await handle.read(head, 0, 16, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * Reads a state dict from a weights file or a Hugging Face model folder (see {@link HF_WEIGHT_FILES}).
 * Tensors come back as float32 under their PyTorch names.
 */
export async function readStateDictFile(p: string, options: ReadStateDictOptions = {}): Promise<StateDictFile> {
  let isDir = false;
  try {
    isDir = (await fs.promises.stat(p)).isDirectory();
  } catch (err) {
    throw new Error(`${p}: cannot read weights (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const read = isDir ? await readModelFolder(p) : await readOneFile(p);
  if (options.stripModulePrefix ?? true) {
    const s = stripModulePrefix(read.tensors);
    return { ...read, tensors: s.tensors, strippedModulePrefix: s.stripped };
  }
  return { ...read, strippedModulePrefix: false };
}

type Unstripped = Omit<StateDictFile, 'strippedModulePrefix'>;

async function readOneFile(file: string): Promise<Unstripped> {
  const head = await readHead(file);
  if (looksLikeSafetensors(head) || file.endsWith('.safetensors')) {
    const { tensors, metadata } = parseSafetensors(await fs.promises.readFile(file), file);
    return { tensors, metadata, format: 'safetensors', files: [file] };
  }
  const format = torchFileFormat(head);
  if (!format) {
    throw new Error(`${file}: not a weights file: neither safetensors nor a torch.save file (.pth / .pt / pytorch_model.bin)`);
  }
  const { tensors, key } = torchStateDict(await readTorchFile(file), file);
  return { tensors, metadata: {}, format: format === 'zip' ? 'torch-zip' : 'torch-legacy', files: [file], key };
}

async function readModelFolder(dir: string): Promise<Unstripped> {
  const name = HF_WEIGHT_FILES.find((f) => fs.existsSync(path.join(dir, f)));
  if (!name) throw new Error(`${dir}: no weights in this folder (looked for ${HF_WEIGHT_FILES.join(', ')})`);
  const file = path.join(dir, name);
  if (!name.endsWith('.index.json')) return readOneFile(file);
  let weightMap: Record<string, string>;
  try {
    weightMap = (JSON.parse(await fs.promises.readFile(file, 'utf8')) as { weight_map: Record<string, string> }).weight_map;
    if (typeof weightMap !== 'object' || weightMap === null) throw new Error('no "weight_map" object');
  } catch (err) {
    throw new Error(`${file}: not a valid shard index (${(err as Error).message})`);
  }
  const shards = [...new Set(Object.values(weightMap))];
  const tensors: TensorDict = {};
  let format: StateDictFormat = 'safetensors';
  for (const shard of shards) {
    if (path.basename(shard) !== shard) throw new Error(`${file}: shard "${shard}" is not a file name in ${dir}`);
    const part = await readOneFile(path.join(dir, shard));
    format = part.format;
    for (const [k, t] of Object.entries(part.tensors)) if (weightMap[k] === shard) tensors[k] = t;
  }
  const missing = Object.keys(weightMap).filter((k) => !(k in tensors));
  if (missing.length) throw new Error(`${file}: ${missing.length} tensors listed in the index are not in their shards (${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''})`);
  return { tensors, metadata: {}, format, files: shards.map((s) => path.join(dir, s)) };
}
