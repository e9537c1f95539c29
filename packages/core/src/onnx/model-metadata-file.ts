import { readFile } from 'node:fs/promises';
import { readOnnxModelSummary, type OnnxModelSummary } from './model-metadata';

/** {@link readOnnxModelSummary} of a file; undefined when the file does not exist. */
export async function readOnnxModelSummaryFile(file: string): Promise<OnnxModelSummary | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return readOnnxModelSummary(bytes, file);
}
