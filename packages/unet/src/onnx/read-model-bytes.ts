import { readFile } from 'node:fs/promises';

/** The bytes of a model file (`read-model-bytes.browser.ts` fetches a URL instead). */
export async function readModelBytes(file: string): Promise<Uint8Array> {
  return readFile(file);
}
