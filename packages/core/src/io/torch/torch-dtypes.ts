/**
 * The element types of PyTorch storages as `torch.save` names them (`torch.FloatStorage`, …, the
 * legacy class names that even PyTorch 2.x still writes into its pickles).
 */
export type TorchDtype = 'float64' | 'float32' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

/**
 * A tensor's values, contiguous and row-major: `Float32Array` for float32, float16 and bfloat16
 * (every half and bfloat16 value is exactly a float32), `Float64Array` for float64, and the matching
 * integer array for integer dtypes (`BigInt64Array` for int64, `Uint8Array` for bool).
 */
export type TorchTensorData = Float32Array | Float64Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;

export interface StorageType {
  /** `FloatStorage`, as the pickle names it. */
  name: string;
  dtype: TorchDtype;
  /** Bytes per element. */
  itemSize: number;
}

const TYPES: StorageType[] = [
  { name: 'DoubleStorage', dtype: 'float64', itemSize: 8 },
  { name: 'FloatStorage', dtype: 'float32', itemSize: 4 },
  { name: 'HalfStorage', dtype: 'float16', itemSize: 2 },
  { name: 'BFloat16Storage', dtype: 'bfloat16', itemSize: 2 },
  { name: 'LongStorage', dtype: 'int64', itemSize: 8 },
  { name: 'IntStorage', dtype: 'int32', itemSize: 4 },
  { name: 'ShortStorage', dtype: 'int16', itemSize: 2 },
  { name: 'CharStorage', dtype: 'int8', itemSize: 1 },
  { name: 'ByteStorage', dtype: 'uint8', itemSize: 1 },
  { name: 'BoolStorage', dtype: 'bool', itemSize: 1 },
];

export const STORAGE_TYPES: ReadonlyMap<string, StorageType> = new Map(TYPES.map((t) => [t.name, t]));

/** Storage classes torch has but this reader does not turn into arrays, with the reason. */
export const UNSUPPORTED_STORAGES: ReadonlyMap<string, string> = new Map([
  ['ComplexFloatStorage', 'complex tensors'],
  ['ComplexDoubleStorage', 'complex tensors'],
  ['QInt8Storage', 'quantized tensors'],
  ['QUInt8Storage', 'quantized tensors'],
  ['QInt32Storage', 'quantized tensors'],
  ['QUInt4x2Storage', 'quantized tensors'],
  ['QUInt2x4Storage', 'quantized tensors'],
  ['UntypedStorage', 'untyped storages'],
]);

export function isFloatDtype(d: TorchDtype): boolean {
  return d === 'float64' || d === 'float32' || d === 'float16' || d === 'bfloat16';
}
