import { bytesSource, openFileSource, type ByteSource } from './byte-source';
import { loadLegacyTorchFile } from './legacy-format';
import type { PyValue } from './pickle/python-values';
import { TorchFileError } from './torch-file-error';
import { looksLikeZip } from './zip-archive';
import { loadZipTorchFile } from './zip-format';

export type TorchFileFormat = 'zip' | 'legacy';

export interface ReadTorchFileOptions {
  /** Names the input in error messages (default: the path, or `<buffer>`). */
  source?: string;
}

/**
 * Which `torch.save` format bytes start with: `zip` (PyTorch ≥ 1.6), `legacy` (a pickle: the
 * older format), or undefined.
 */
export function torchFileFormat(head: Uint8Array): TorchFileFormat | undefined {
  if (looksLikeZip(head)) return 'zip';
  if (head[0] === 0x80 && head[1] !== undefined && head[1] >= 2 && head[1] <= 5) return 'legacy';
  return undefined;
}

function isTar(head: Uint8Array): boolean {
  return head.length > 262 && String.fromCharCode(...head.subarray(257, 262)) === 'ustar';
}

/**
 * Reads a file written by `torch.save` — `.pth`, `.pt`, `pytorch_model.bin` — without Python and
 * without running anything from it: the zip format (PyTorch ≥ 1.6) and the legacy one, tensors of
 * every float and integer dtype (views materialised contiguous), dicts, OrderedDicts, lists,
 * tuples, numbers, strings, None. See {@link PyValue} for how Python values map to JavaScript.
 *
 * Anything a state dict or checkpoint never needs (a Python object of some class, `os.system`, …)
 * is refused with a {@link TorchFileError} naming it; so are truncated, corrupt and hostile files.
 */
export async function readTorchFile(input: string | Uint8Array, options: ReadTorchFileOptions = {}): Promise<PyValue> {
  const named: ByteSource = typeof input === 'string' ? await openFileSource(input, options.source) : bytesSource(input, options.source ?? '<buffer>');
  const { name } = named;
  try {
    const head = await named.read(0, Math.min(named.size, 512), 'the file header');
    switch (torchFileFormat(head)) {
      case 'zip':
        return await loadZipTorchFile(named);
      case 'legacy':
        return await loadLegacyTorchFile(await named.read(0, named.size, 'the file'), name);
      default:
        if (isTar(head)) throw new TorchFileError(name, 'a tar archive: the format of PyTorch before 0.1.10, which is not supported (load and re-save it with a newer PyTorch)');
        if (named.size === 0) throw new TorchFileError(name, 'the file is empty');
        throw new TorchFileError(name, 'not a torch.save file (neither a zip archive nor a pickle)');
    }
  } finally {
    await named.close();
  }
}
