import fs from 'node:fs';
import { writeFileAtomic } from './atomic';
import type { TensorDict } from './host-tensor';
import { parseSafetensors, SafetensorsError, serializeSafetensors, type SafetensorsFile } from './safetensors-format';

// The format itself (bytes in, bytes out) is in safetensors-format.ts, which browsers load too.
export * from './safetensors-format';

export async function readSafetensors(file: string): Promise<SafetensorsFile> {
  let bytes: Buffer;
  try {
    bytes = await fs.promises.readFile(file);
  } catch (err) {
    throw new SafetensorsError(file, `cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return parseSafetensors(bytes, file);
}

export async function writeSafetensors(file: string, tensors: TensorDict, metadata?: Record<string, string>): Promise<void> {
  await writeFileAtomic(file, serializeSafetensors(tensors, metadata));
}
