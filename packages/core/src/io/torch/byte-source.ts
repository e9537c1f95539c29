import fs from 'node:fs';
import { TorchFileError } from './torch-file-error';

/**
 * Random access to the bytes of a file or buffer. The zip reader reads only the directory, the
 * pickle and each storage in turn, so a 1 GB `pytorch_model.bin` is never held twice in memory.
 * Every read is checked against the size first: a declared offset or length past the end is a
 * truncated or corrupt file, reported as such, never an out-of-bounds read.
 */
export interface ByteSource {
  /** Names the file in error messages. */
  readonly name: string;
  readonly size: number;
  /** `length` bytes at `offset`; `what` says what was being read (for the error on a short file). */
  read(offset: number, length: number, what: string): Promise<Uint8Array>;
  close(): Promise<void>;
}

function checkRange(source: ByteSource, offset: number, length: number, what: string): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > source.size) {
    throw new TorchFileError(source.name, `${what} lies at bytes [${offset}, ${offset + length}) but the file has ${source.size} bytes (truncated or corrupt)`);
  }
}

/** A buffer in memory; reads are views (no copy). */
export function bytesSource(input: Uint8Array, name: string): ByteSource {
  // A plain Uint8Array over the same memory: a Buffer's subarray/slice would stay a Buffer, whose
  // slice() does not copy.
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const source: ByteSource = {
    name,
    size: bytes.byteLength,
    async read(offset, length, what) {
      checkRange(source, offset, length, what);
      return bytes.subarray(offset, offset + length);
    },
    async close() {},
  };
  return source;
}

/** Files up to this size are read in one go: one read beats one per zip entry (63 for the UNet). */
const WHOLE_FILE_BYTES = 64 * 1024 * 1024;

/**
 * A file on disk: read whole when it is at most `wholeFileBytes` (default 64 MiB), else piece by
 * piece, so a large file is never held twice.
 */
export async function openFileSource(file: string, name = file, wholeFileBytes = WHOLE_FILE_BYTES): Promise<ByteSource> {
  let handle: fs.promises.FileHandle;
  let size: number;
  const cannot = (err: unknown) => new TorchFileError(name, `cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  try {
    handle = await fs.promises.open(file, 'r');
  } catch (err) {
    throw cannot(err);
  }
  try {
    size = (await handle.stat()).size;
  } catch (err) {
    await handle.close();
    throw cannot(err);
  }
  if (size <= wholeFileBytes) {
    try {
      return bytesSource(await handle.readFile(), name);
    } finally {
      await handle.close();
    }
  }
  const source: ByteSource = {
    name,
    size,
    async read(offset, length, what) {
      checkRange(source, offset, length, what);
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(out, done, length - done, offset + done);
        if (bytesRead === 0) throw new TorchFileError(name, `${what}: the file ended after ${offset + done} bytes while reading (it changed while being read?)`);
        done += bytesRead;
      }
      return out;
    },
    async close() {
      await handle.close();
    },
  };
  return source;
}
