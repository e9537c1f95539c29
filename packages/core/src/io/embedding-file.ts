import fs from 'node:fs';
import path from 'node:path';
import type { HostTensor } from './host-tensor';
import { NpyError, parseNpy } from './npy';
import { readTorchFile, torchFileFormat } from './torch/read-torch-file';
import { TorchFileError } from './torch/torch-file-error';
import { isFloatDtype } from './torch/torch-dtypes';
import { TorchTensor } from './torch/torch-tensor';
import { pyTypeName } from './torch/pickle/python-values';

/**
 * Per-image embedding files: srdiff writes NumPy `.npy`; the original SR-Diff (`sr/getCLS.py`)
 * writes `torch.save(cls_embedding.cpu(), "<name>.pt")` — a bare `[1, D]` tensor that is a view of
 * the whole hidden state. Both are read, told apart by content.
 */
export const EMBEDDING_FILE_EXTENSIONS = ['.npy', '.pt'] as const;

export function isEmbeddingFileName(name: string): boolean {
  return !name.startsWith('.') && (EMBEDDING_FILE_EXTENSIONS as readonly string[]).includes(path.extname(name).toLowerCase());
}

/** `0001` for `0001.npy` or `0001.pt`. */
export function embeddingStem(name: string): string {
  return name.slice(0, name.length - path.extname(name).length);
}

/**
 * The embedding file of `stem` in `dir` (`<stem>.npy` or `<stem>.pt`), or undefined. Both present
 * is an error naming them: which one is meant cannot be guessed.
 */
export function findEmbeddingFile(dir: string, stem: string): string | undefined {
  const found = EMBEDDING_FILE_EXTENSIONS.map((ext) => path.join(dir, stem + ext)).filter((f) => fs.existsSync(f));
  if (found.length > 1) throw new Error(`${found.join(' and ')}: two embeddings for "${stem}"; keep one`);
  return found[0];
}

/** Reads one embedding file (`.npy` or a torch `.pt`) as float32. Errors name the file. */
export async function readEmbeddingTensor(file: string): Promise<HostTensor> {
  let bytes: Buffer;
  try {
    bytes = await fs.promises.readFile(file);
  } catch (err) {
    throw new NpyError(file, `cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return parseEmbeddingTensor(bytes, file);
}

export async function parseEmbeddingTensor(bytes: Uint8Array, source: string): Promise<HostTensor> {
  if (!torchFileFormat(bytes.subarray(0, 16))) return parseNpy(bytes, source);
  const value = await readTorchFile(bytes, { source });
  if (!(value instanceof TorchTensor)) throw new TorchFileError(source, `holds a ${pyTypeName(value)}, expected one embedding tensor (torch.save(tensor))`);
  if (!isFloatDtype(value.dtype)) throw new TorchFileError(source, `embedding tensor is ${value.dtype}; expected a float tensor`);
  return value.toHostTensor();
}
