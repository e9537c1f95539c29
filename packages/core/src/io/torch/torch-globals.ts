import { TorchFileError } from './torch-file-error';
import { STORAGE_TYPES, UNSUPPORTED_STORAGES, type StorageType } from './torch-dtypes';
import { PyTuple, pyTypeName } from './pickle/python-values';
import type { PickleGlobal, UnpicklerHooks } from './pickle/unpickler';
import { TorchTensor, type StorageRef } from './torch-tensor';

/**
 * The only Python globals a `torch.save` file of tensors, dicts, lists and numbers refers to, each
 * replaced by a builder of plain data. Any other name is refused with an error naming it: Python's
 * unpickler would import and call it, which is how a malicious `.pth` runs code.
 */

/** A `torch.<X>Storage` class: appears as an argument of storage persistent ids, never called. */
export interface StorageClass extends PickleGlobal {
  readonly storageType: StorageType;
}

export function isStorageClass(v: unknown): v is StorageClass {
  return typeof v === 'object' && v !== null && 'storageType' in v;
}

/** What the unpickling of one file builds besides the value: its tensors, in order of creation. */
export class TorchLoadContext {
  readonly tensors: TorchTensor[] = [];
  private readonly refs = new WeakSet<object>();

  constructor(readonly source: string) {}

  registerStorage<T extends StorageRef>(ref: T): T {
    this.refs.add(ref);
    return ref;
  }

  isStorage(v: unknown): v is StorageRef {
    return typeof v === 'object' && v !== null && this.refs.has(v);
  }

  error(message: string, at: string): TorchFileError {
    return new TorchFileError(this.source, `${message} (${at})`);
  }
}

function nonNegativeInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function intTuple(v: unknown, what: string, ctx: TorchLoadContext, at: string): number[] {
  if (!(v instanceof PyTuple) || !v.items.every(nonNegativeInt)) {
    throw ctx.error(`tensor ${what} must be a tuple of non-negative integers, got ${v instanceof PyTuple ? `(${v.items.map(String).join(', ')})` : pyTypeName(v)}`, at);
  }
  return v.items as number[];
}

function rebuildTensor(ctx: TorchLoadContext, args: unknown[], at: string, name: string): TorchTensor {
  const [storage, offset, size, stride, requiresGrad = false] = args;
  if (!ctx.isStorage(storage)) throw ctx.error(`${name}: its first argument is a ${pyTypeName(storage)}, not a storage`, at);
  if (!nonNegativeInt(offset)) throw ctx.error(`${name}: storage offset ${String(offset)} is not a non-negative integer`, at);
  const shape = intTuple(size, 'size', ctx, at);
  const strides = intTuple(stride, 'stride', ctx, at);
  if (shape.length !== strides.length) throw ctx.error(`${name}: size has ${shape.length} dimensions but stride ${strides.length}`, at);
  const t = new TorchTensor(storage.type.dtype, shape, { storage, storageOffset: offset, stride: strides }, requiresGrad === true);
  ctx.tensors.push(t);
  return t;
}

function builder(qualifiedName: string, call: PickleGlobal['call']): PickleGlobal {
  return { qualifiedName, call };
}

function allowed(ctx: TorchLoadContext): Map<string, PickleGlobal> {
  const g = new Map<string, PickleGlobal>();
  const add = (name: string, call: PickleGlobal['call']) => g.set(name, builder(name, call));
  add('collections.OrderedDict', (args, at) => {
    const d = new Map<unknown, unknown>();
    const [items] = args;
    if (items === undefined) return d;
    if (!Array.isArray(items)) throw ctx.error(`OrderedDict of a ${pyTypeName(items)} (expected a list of pairs)`, at);
    for (const pair of items) {
      if (!(pair instanceof PyTuple) || pair.length !== 2) throw ctx.error('OrderedDict items must be (key, value) pairs', at);
      d.set(pair.items[0], pair.items[1]);
    }
    return d;
  });
  // torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
  add('torch._utils._rebuild_tensor_v2', (args, at) => {
    if (args.length < 6 || args.length > 7) throw ctx.error(`_rebuild_tensor_v2 takes 6 or 7 arguments, got ${args.length}`, at);
    return rebuildTensor(ctx, args, at, '_rebuild_tensor_v2');
  });
  // PyTorch ≤ 0.3: (storage, storage_offset, size, stride)
  add('torch._utils._rebuild_tensor', (args, at) => {
    if (args.length !== 4) throw ctx.error(`_rebuild_tensor takes 4 arguments, got ${args.length}`, at);
    return rebuildTensor(ctx, args, at, '_rebuild_tensor');
  });
  // nn.Parameter(data, requires_grad, backward_hooks[, state]): the parameter is its data.
  const parameter = (args: unknown[], at: string) => {
    const [data] = args;
    if (!(data instanceof TorchTensor)) throw ctx.error(`_rebuild_parameter of a ${pyTypeName(data)}, not a tensor`, at);
    return data;
  };
  add('torch._utils._rebuild_parameter', parameter);
  add('torch._utils._rebuild_parameter_with_state', parameter);
  add('torch.device', (args, at) => {
    const [type, index] = args;
    if (typeof type !== 'string' || (index !== undefined && !nonNegativeInt(index))) throw ctx.error('torch.device needs a type string and an optional index', at);
    return index === undefined ? type : `${type}:${index}`;
  });
  for (const type of STORAGE_TYPES.values()) {
    const qualifiedName = `torch.${type.name}`;
    const cls: StorageClass = {
      qualifiedName,
      storageType: type,
      call: (_args, at) => {
        throw ctx.error(`${qualifiedName} is called directly; torch.save files refer to storages by persistent id`, at);
      },
    };
    g.set(qualifiedName, cls);
  }
  return g;
}

/** Protocol-2 pickles name Python 3 modules by their Python 2 names; say them as Python 3 does. */
const PYTHON2_MODULES: Record<string, string> = { __builtin__: 'builtins', copy_reg: 'copyreg' };

function refusal(rawModule: string, name: string): string {
  const module = PYTHON2_MODULES[rawModule] ?? rawModule;
  const full = `${module}.${name}`;
  const storage = module === 'torch' ? UNSUPPORTED_STORAGES.get(name) : undefined;
  if (storage) return `the file holds ${storage} (${full}), which this reader does not support`;
  const why =
    module === 'torch' || module.startsWith('torch.')
      ? 'a PyTorch object other than tensors, dicts, lists and numbers'
      : module === 'numpy' || module.startsWith('numpy.')
        ? 'NumPy objects: save Python numbers or tensors instead'
        : module === '__main__' || !['builtins', 'copyreg', 'os', 'posix', 'nt', 'subprocess', 'sys', 'shutil', 'socket', 'importlib', 'runpy', 'pickle', 'codecs', '_codecs', 'functools', 'operator', 'types'].includes(module)
          ? 'a pickled Python object (a whole nn.Module or a custom class?): save model.state_dict() instead'
          : 'code that would run while loading';
  return `refused to load the Python global "${full}" (${why}); only the globals torch.save uses for tensors are accepted, and srdiff never runs code from a file`;
}

/** The unpickler hooks of a torch file: the allowed globals, and BUILD on an OrderedDict. */
export function torchGlobals(ctx: TorchLoadContext): Pick<UnpicklerHooks, 'findGlobal' | 'build'> {
  const table = allowed(ctx);
  return {
    findGlobal(module, name, at) {
      const g = table.get(`${module}.${name}`);
      if (!g) throw ctx.error(refusal(module, name), at);
      return g;
    },
    build(target, state, at) {
      // model.state_dict() is an OrderedDict carrying `_metadata` (per-module versions) as an
      // attribute; pickled as BUILD state. It says nothing about the tensors: dropped.
      if (target instanceof Map && (state instanceof Map || state === null)) return target;
      throw ctx.error(`BUILD of a ${pyTypeName(target)} with ${pyTypeName(state)} state is not something torch.save writes`, at);
    },
  };
}
