import fs from 'node:fs';
import { writeFileAtomic } from './atomic';
import type { HostTensor } from './host-tensor';
import { NpyError, parseNpy, serializeNpy } from './npy-format';

// The format itself (bytes in, bytes out) is in npy-format.ts, which browsers load too.
export * from './npy-format';

export async function readNpy(file: string): Promise<HostTensor> {
  let bytes: Buffer;
  try {
    bytes = await fs.promises.readFile(file);
  } catch (err) {
    throw new NpyError(file, `cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return parseNpy(bytes, file);
}

/** Writes a `.npy` atomically: an interrupted write never leaves a half-written file behind. */
export async function writeNpy(file: string, t: HostTensor): Promise<void> {
  await writeFileAtomic(file, serializeNpy(t));
}
