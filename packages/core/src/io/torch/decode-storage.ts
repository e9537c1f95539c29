import { bfloat16ToNumber, float16ToNumber } from '../half';
import type { StorageType, TorchTensorData } from './torch-dtypes';

/**
 * A storage's raw bytes as a typed array of its element type (half and bfloat16 widened to float32,
 * exactly). Little-endian data on this (little-endian) host is copied once into an aligned buffer and
 * viewed; big-endian files (a `byteorder` of "big") go through a DataView.
 */

let halfTable: Float32Array | undefined;

/** All 65536 float16 values as float32: one lookup per element instead of arithmetic. */
function float16Table(): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    const bits = new Uint32Array(halfTable.buffer);
    for (let h = 0; h < 65536; h++) {
      // NaNs keep sign and payload bits, as PyTorch's half → float conversion does.
      if ((h & 0x7c00) === 0x7c00 && h & 0x3ff) bits[h] = ((h & 0x8000) << 16) | 0x7f800000 | ((h & 0x3ff) << 13);
      else halfTable[h] = float16ToNumber(h);
    }
  }
  return halfTable;
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function decodeStorage(bytes: Uint8Array, type: StorageType, numel: number, littleEndian: boolean): TorchTensorData {
  const n = numel * type.itemSize;
  if (bytes.length < n) throw new RangeError(`decodeStorage: ${numel} ${type.dtype} values need ${n} bytes, got ${bytes.length}`);
  if (littleEndian === HOST_LITTLE_ENDIAN) {
    // An aligned copy (Uint8Array's slice: a Node Buffer's own slice would be a view of its pool).
    const buf = Uint8Array.prototype.slice.call(bytes, 0, n).buffer;
    switch (type.dtype) {
      case 'float32': return new Float32Array(buf);
      case 'float64': return new Float64Array(buf);
      case 'int64': return new BigInt64Array(buf);
      case 'int32': return new Int32Array(buf);
      case 'int16': return new Int16Array(buf);
      case 'int8': return new Int8Array(buf);
      case 'uint8':
      case 'bool': return new Uint8Array(buf);
      case 'float16': {
        const t = float16Table();
        const h = new Uint16Array(buf);
        const out = new Float32Array(numel);
        for (let i = 0; i < numel; i++) out[i] = t[h[i]!]!;
        return out;
      }
      case 'bfloat16': {
        // bfloat16 is the upper half of a float32's bits.
        const h = new Uint16Array(buf);
        const out = new Float32Array(numel);
        const bits = new Uint32Array(out.buffer);
        for (let i = 0; i < numel; i++) bits[i] = h[i]! << 16;
        return out;
      }
    }
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, n);
  const le = littleEndian;
  const fill = <T extends { [i: number]: number | bigint }>(out: T, get: (o: number) => number | bigint): T => {
    for (let i = 0; i < numel; i++) out[i] = get(i * type.itemSize) as T[number];
    return out;
  };
  switch (type.dtype) {
    case 'float32': return fill(new Float32Array(numel), (o) => v.getFloat32(o, le));
    case 'float64': return fill(new Float64Array(numel), (o) => v.getFloat64(o, le));
    case 'float16': return fill(new Float32Array(numel), (o) => float16ToNumber(v.getUint16(o, le)));
    case 'bfloat16': return fill(new Float32Array(numel), (o) => bfloat16ToNumber(v.getUint16(o, le)));
    case 'int64': return fill(new BigInt64Array(numel), (o) => v.getBigInt64(o, le));
    case 'int32': return fill(new Int32Array(numel), (o) => v.getInt32(o, le));
    case 'int16': return fill(new Int16Array(numel), (o) => v.getInt16(o, le));
    case 'int8': return fill(new Int8Array(numel), (o) => v.getInt8(o));
    default: return fill(new Uint8Array(numel), (o) => v.getUint8(o));
  }
}
