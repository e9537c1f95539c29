import type { TorchTensor } from '../torch-tensor';

/**
 * What a `torch.save` file unpickles to, as plain JavaScript:
 *
 * | Python | here |
 * |---|---|
 * | `None`, `bool`, `str` | `null`, `boolean`, `string` |
 * | `int` | `number` (a `bigint` beyond ±2⁵³) |
 * | `float` | `number` |
 * | `bytes` | `Uint8Array` |
 * | `list` | `PyValue[]` |
 * | `tuple` | {@link PyTuple} |
 * | `dict`, `OrderedDict` | `Map` (insertion order kept; keys as above, e.g. the int keys of an optimizer's `state`) |
 * | `set`, `frozenset` | `Set` |
 * | `torch.Tensor`, `nn.Parameter` | {@link TorchTensor} |
 * | `torch.device` | `string` (`'cpu'`, `'cuda:0'`) |
 */
export type PyValue = null | boolean | number | bigint | string | Uint8Array | PyValue[] | PyTuple | PyDict | PySet | TorchTensor;
export type PyDict = Map<PyValue, PyValue>;
export type PySet = Set<PyValue>;

/** A Python tuple (kept apart from lists, as the structure of a file distinguishes them). */
export class PyTuple {
  constructor(readonly items: PyValue[]) {}
  get length(): number {
    return this.items.length;
  }
}

/** Short description of a value's Python type, for error messages. */
export function pyTypeName(v: unknown): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'string') return 'str';
  if (v instanceof Uint8Array) return 'bytes';
  if (Array.isArray(v)) return 'list';
  if (v instanceof PyTuple) return 'tuple';
  if (v instanceof Map) return 'dict';
  if (v instanceof Set) return 'set';
  if (typeof v === 'object' && v && 'dtype' in v && 'shape' in v) return 'Tensor';
  return 'object';
}
