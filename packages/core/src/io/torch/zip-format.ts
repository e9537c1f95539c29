import type { ByteSource } from './byte-source';
import { decodeStorage } from './decode-storage';
import { materialiseAll } from './materialise-all';
import { PyTuple, pyTypeName, type PyValue } from './pickle/python-values';
import { Unpickler } from './pickle/unpickler';
import { TorchFileError } from './torch-file-error';
import { isStorageClass, torchGlobals, TorchLoadContext } from './torch-globals';
import type { StorageRef } from './torch-tensor';
import { ZipArchive, type ZipEntry } from './zip-archive';

/**
 * The zip format of `torch.save` (PyTorch ≥ 1.6): `<archive>/data.pkl` is the pickled object,
 * whose tensors refer to storages by persistent id `('storage', torch.<X>Storage, key, location,
 * numel)`; storage `key` is the entry `<archive>/data/<key>` (raw little-endian elements unless
 * `<archive>/byteorder` says "big"). `<archive>` is whatever the file was first called.
 */
export async function loadZipTorchFile(source: ByteSource): Promise<PyValue> {
  const zip = await ZipArchive.open(source);
  const prefix = archivePrefix(zip, source.name);
  const entry = (name: string) => zip.entries.get(prefix + name);
  const byteorderEntry = entry('byteorder');
  let littleEndian = true;
  if (byteorderEntry) {
    const order = new TextDecoder().decode(await zip.read(byteorderEntry)).trim();
    if (order !== 'little' && order !== 'big') throw new TorchFileError(source.name, `byteorder entry says "${order.slice(0, 20)}", expected "little" or "big"`);
    littleEndian = order === 'little';
  }
  const ctx = new TorchLoadContext(source.name);
  const refs = new Map<string, StorageRef>();
  const entries = new Map<string, ZipEntry>();
  const pickle = await zip.read(entry('data.pkl')!);
  const { value } = new Unpickler(pickle, {
    ...torchGlobals(ctx),
    persistentLoad(pid, at) {
      if (!(pid instanceof PyTuple) || pid.length !== 5 || pid.items[0] !== 'storage') {
        throw ctx.error(`persistent id ${pid instanceof PyTuple ? `(${pid.items.map(pyTypeName).join(', ')})` : pyTypeName(pid)} is not a storage reference ('storage', type, key, location, numel)`, at);
      }
      const [, cls, key, location, numel] = pid.items;
      if (!isStorageClass(cls)) throw ctx.error(`storage type is a ${pyTypeName(cls)}, not a torch storage class`, at);
      if (typeof key !== 'string' || typeof location !== 'string' || typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) {
        throw ctx.error('storage reference needs a key string, a location string and a non-negative element count', at);
      }
      const type = cls.storageType;
      const id = `${key}\u0000${type.name}`;
      const known = refs.get(id);
      if (known) return known;
      const e = entry(`data/${key}`);
      if (!e) throw ctx.error(`storage "${key}" has no entry ${prefix}data/${key} in the archive (truncated or corrupt file)`, at);
      const bytes = numel * type.itemSize;
      if (bytes > e.size) {
        throw ctx.error(`storage "${key}" declares ${numel} ${type.dtype} values (${bytes} bytes) but its entry holds ${e.size} bytes`, at);
      }
      entries.set(key, e);
      const ref = ctx.registerStorage({ key, type, numel, location, viewOffset: 0 });
      refs.set(id, ref);
      return ref;
    },
  }, source.name, 0, `${prefix}data.pkl`).load();
  return materialiseAll(value, source.name, async (key, ref) => decodeStorage(await zip.read(entries.get(key)!), ref.type, ref.numel, littleEndian));
}

function archivePrefix(zip: ZipArchive, source: string): string {
  const names = [...zip.entries.keys()];
  // TorchScript archives have a data.pkl too, but of scripted objects, beside their code.
  if (names.some((n) => /^[^/]*\/(constants\.pkl|code\/)/.test(n))) {
    throw new TorchFileError(source, 'this is a TorchScript archive (torch.jit.save), not a torch.save file; save the model\'s state_dict() with torch.save instead');
  }
  const pickles = names.filter((n) => /^[^/]*\/data\.pkl$/.test(n));
  if (pickles.length === 1) return pickles[0]!.slice(0, -'data.pkl'.length);
  if (pickles.length > 1) throw new TorchFileError(source, `zip archive holds ${pickles.length} data.pkl entries (${pickles.slice(0, 3).join(', ')}); expected one`);
  throw new TorchFileError(source, `zip archive has no <name>/data.pkl entry (entries: ${names.slice(0, 5).join(', ') || 'none'}); not a torch.save file`);
}
