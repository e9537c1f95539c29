import { bfloat16ToNumber, float16ToNumber } from './half';
import { shapeSize, type HostTensor, type TensorDict } from './host-tensor';

/**
 * The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian
 * header length N, N bytes of JSON `{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?}`,
 * then the raw little-endian data. We read every float dtype (and integer ones, as exact float32
 * values) and always write float32.
 */

const DTYPE_BYTES: Record<string, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, U16: 2, U32: 4, U64: 8, BOOL: 1,
};

export interface SafetensorsFile {
  tensors: TensorDict;
  metadata: Record<string, string>;
}

export class SafetensorsError extends Error {
  constructor(source: string, message: string) {
    super(`${source}: ${message}`);
    this.name = 'SafetensorsError';
  }
}

/** Parses safetensors bytes. `source` names the file in error messages. */
export function parseSafetensors(bytes: Uint8Array, source = '<buffer>'): SafetensorsFile {
  if (bytes.byteLength < 8) {
    throw new SafetensorsError(source, `file is ${bytes.byteLength} bytes; a safetensors file starts with an 8-byte header length (truncated?)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > bytes.byteLength - 8) {
    throw new SafetensorsError(source, `header claims ${headerLen} bytes but only ${bytes.byteLength - 8} follow (truncated or not a safetensors file)`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
  } catch (err) {
    throw new SafetensorsError(source, `header is not valid JSON (${(err as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new SafetensorsError(source, 'header must be a JSON object');
  }
  const dataStart = 8 + headerLen;
  const dataLen = bytes.byteLength - dataStart;
  const tensors: TensorDict = {};
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = (entry ?? {}) as Record<string, string>;
      continue;
    }
    const e = entry as { dtype?: string; shape?: number[]; data_offsets?: [number, number] };
    if (!e || typeof e.dtype !== 'string' || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets)) {
      throw new SafetensorsError(source, `tensor "${name}": expected {dtype, shape, data_offsets} in the header`);
    }
    const width = DTYPE_BYTES[e.dtype];
    if (!width) throw new SafetensorsError(source, `tensor "${name}": unsupported dtype ${e.dtype}`);
    const [begin, end] = e.data_offsets;
    const count = shapeSize(e.shape);
    if (!(begin >= 0 && end >= begin && end <= dataLen)) {
      throw new SafetensorsError(source, `tensor "${name}": data_offsets [${begin}, ${end}] fall outside the ${dataLen} data bytes (truncated file?)`);
    }
    if (end - begin !== count * width) {
      throw new SafetensorsError(source, `tensor "${name}": shape [${e.shape.join(', ')}] of ${e.dtype} needs ${count * width} bytes, data_offsets span ${end - begin}`);
    }
    tensors[name] = { shape: [...e.shape], data: decode(view, dataStart + begin, count, e.dtype) };
  }
  return { tensors, metadata };
}

function decode(view: DataView, offset: number, count: number, dtype: string): Float32Array {
  const out = new Float32Array(count);
  const w = DTYPE_BYTES[dtype]!;
  for (let i = 0, o = offset; i < count; i++, o += w) {
    switch (dtype) {
      case 'F32': out[i] = view.getFloat32(o, true); break;
      case 'F64': out[i] = view.getFloat64(o, true); break;
      case 'F16': out[i] = float16ToNumber(view.getUint16(o, true)); break;
      case 'BF16': out[i] = bfloat16ToNumber(view.getUint16(o, true)); break;
      case 'I64': out[i] = Number(view.getBigInt64(o, true)); break;
      case 'U64': out[i] = Number(view.getBigUint64(o, true)); break;
      case 'I32': out[i] = view.getInt32(o, true); break;
      case 'U32': out[i] = view.getUint32(o, true); break;
      case 'I16': out[i] = view.getInt16(o, true); break;
      case 'U16': out[i] = view.getUint16(o, true); break;
      case 'I8': out[i] = view.getInt8(o); break;
      default: out[i] = view.getUint8(o);
    }
  }
  return out;
}

/** Serialises tensors as float32 safetensors (keys in the given order, 8-byte aligned data). */
export function serializeSafetensors(tensors: TensorDict, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    if (shapeSize(t.shape) !== t.data.length) {
      throw new Error(`serializeSafetensors: tensor "${name}" has shape [${t.shape.join(', ')}] but ${t.data.length} values`);
    }
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.length * 4] };
    offset += t.data.length * 4;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + new TextEncoder().encode(json).byteLength) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let o = 8 + headerBytes.byteLength;
  for (const t of Object.values(tensors)) {
    for (let i = 0; i < t.data.length; i++, o += 4) view.setFloat32(o, t.data[i]!, true);
  }
  return out;
}

export type { HostTensor };
