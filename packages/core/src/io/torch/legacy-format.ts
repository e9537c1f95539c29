import { decodeStorage } from './decode-storage';
import { materialiseAll } from './materialise-all';
import { PyTuple, pyTypeName, type PyValue } from './pickle/python-values';
import { Unpickler, type UnpicklerHooks } from './pickle/unpickler';
import { TorchFileError } from './torch-file-error';
import { isStorageClass, torchGlobals, TorchLoadContext } from './torch-globals';
import type { StorageType } from './torch-dtypes';
import type { StorageRef } from './torch-tensor';

/**
 * The legacy format of `torch.save` (PyTorch < 1.6, or `_use_new_zipfile_serialization=False`):
 * five things one after another — the pickled magic number, the pickled protocol version (1001),
 * pickled system info (`little_endian`, type sizes), the pickled object (storages as persistent ids
 * `('storage', type, root_key, location, numel, view_metadata)`), the pickled list of storage keys;
 * then, for each key in that order, its element count as an 8-byte integer and its raw elements.
 */

export const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

interface RootStorage {
  type: StorageType;
  numel: number;
  location: string;
  bytes?: Uint8Array;
}

/** Python 2 files may hold keys as bytes: read them as Latin-1, as torch's `_maybe_decode_ascii` does. */
const asText = (v: unknown) => (v instanceof Uint8Array ? Array.from(v, (c) => String.fromCharCode(c)).join('') : v);

export async function loadLegacyTorchFile(bytes: Uint8Array, source: string): Promise<PyValue> {
  const ctx = new TorchLoadContext(source);
  const noGlobals: UnpicklerHooks = {
    findGlobal: (module, name, at) => {
      throw ctx.error(`refused to load the Python global "${module}.${name}" in the file's header`, at);
    },
    persistentLoad: (_pid, at) => {
      throw ctx.error('unexpected persistent id in the file header', at);
    },
  };
  let pos = 0;
  const header = (label: string) => {
    const r = new Unpickler(bytes, noGlobals, source, pos, label).load();
    pos = r.end;
    return r.value;
  };
  const magic = header('the magic number');
  if (magic !== LEGACY_MAGIC) throw new TorchFileError(source, 'a pickle, but not a torch.save file (no PyTorch magic number)');
  const protocol = header('the protocol version');
  if (protocol !== LEGACY_PROTOCOL) throw new TorchFileError(source, `legacy torch.save protocol ${String(protocol)} is not supported (expected ${LEGACY_PROTOCOL})`);
  const sysInfo = header('the system info');
  const littleEndian = !(sysInfo instanceof Map) || sysInfo.get('little_endian') !== false;

  const roots = new Map<string, RootStorage>();
  const refs = new Map<string, StorageRef>();
  const main = new Unpickler(bytes, {
    ...torchGlobals(ctx),
    persistentLoad(pid, at) {
      if (!(pid instanceof PyTuple) || asText(pid.items[0]) !== 'storage') {
        const kind = pid instanceof PyTuple ? asText(pid.items[0]) : undefined;
        if (kind === 'module') throw ctx.error('the file pickles a whole nn.Module (its source code and object); save model.state_dict() instead', at);
        throw ctx.error(`persistent id ${pyTypeName(pid)} is not a storage reference`, at);
      }
      if (pid.length !== 6) throw ctx.error(`storage reference has ${pid.length} fields, expected 6 ('storage', type, root_key, location, numel, view_metadata)`, at);
      const [, cls, rawKey, rawLocation, numel, view] = pid.items;
      const key = asText(rawKey);
      const location = asText(rawLocation);
      if (!isStorageClass(cls)) throw ctx.error(`storage type is a ${pyTypeName(cls)}, not a torch storage class`, at);
      if (typeof key !== 'string' || typeof location !== 'string' || typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) {
        throw ctx.error('storage reference needs a key, a location and a non-negative element count', at);
      }
      const type = cls.storageType;
      if (numel * type.itemSize > bytes.length) {
        throw ctx.error(`storage "${key}" declares ${numel} ${type.dtype} values (${numel * type.itemSize} bytes), more than the whole ${bytes.length}-byte file`, at);
      }
      let root = roots.get(key);
      if (!root) roots.set(key, (root = { type, numel, location }));
      else if (root.type !== type) throw ctx.error(`storage "${key}" is used as both ${root.type.name} and ${type.name}`, at);
      let viewOffset = 0;
      let viewNumel = numel;
      let id = key;
      if (view !== null) {
        if (!(view instanceof PyTuple) || view.length !== 3) throw ctx.error('storage view metadata must be (view_key, offset, size)', at);
        const [viewKey, offset, size] = view.items;
        if (typeof offset !== 'number' || typeof size !== 'number' || !Number.isSafeInteger(offset) || !Number.isSafeInteger(size) || offset < 0 || size < 0 || offset + size > numel) {
          throw ctx.error(`storage view (${String(offset)}, ${String(size)}) does not fit in storage "${key}" of ${numel} values`, at);
        }
        viewOffset = offset;
        viewNumel = size;
        id = `${key}\u0000view\u0000${String(asText(viewKey))}`;
      }
      const known = refs.get(id);
      if (known) return known;
      const ref = ctx.registerStorage({ key, type, numel: viewNumel, location, viewOffset });
      refs.set(id, ref);
      return ref;
    },
  }, source, pos, 'the pickled object');
  const loaded = main.load();
  pos = loaded.end;
  const keys = header('the storage keys');
  if (!Array.isArray(keys)) throw new TorchFileError(source, `the storage key list is a ${pyTypeName(keys)} (corrupt file)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const rawKey of keys) {
    const key = asText(rawKey);
    const root = typeof key === 'string' ? roots.get(key) : undefined;
    if (!root) throw new TorchFileError(source, `the storage key list names "${String(key)}", which no tensor refers to (corrupt file)`);
    if (pos + 8 > bytes.length) throw new TorchFileError(source, `the file ends before storage "${key}" (truncated)`);
    const count = Number(view.getBigInt64(pos, littleEndian));
    pos += 8;
    if (count !== root.numel) throw new TorchFileError(source, `storage "${key}" is stored with ${count} values but its tensors declare ${root.numel}`);
    const n = count * root.type.itemSize;
    if (pos + n > bytes.length) throw new TorchFileError(source, `storage "${key}" needs ${n} bytes but the file has ${bytes.length - pos} left (truncated)`);
    root.bytes = bytes.subarray(pos, pos + n);
    pos += n;
  }
  return materialiseAll(loaded.value, source, async (key) => {
    const root = roots.get(key)!;
    if (!root.bytes) throw new TorchFileError(source, `storage "${key}" is referred to but its data is not in the file (truncated or corrupt)`);
    return decodeStorage(root.bytes, root.type, root.numel, littleEndian);
  });
}
