import { float16ToNumber } from './half';
import { shapeSize, type HostTensor } from './host-tensor';

/**
 * NumPy `.npy` files (format versions 1–3), as written by `np.save`. Embedding caches use them so
 * they stay readable from Python with `np.load`. Float data (f2/f4/f8, either byte order) is read
 * into float32; anything else is rejected with the file name and the dtype found.
 */

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export class NpyError extends Error {
  constructor(source: string, message: string) {
    super(`${source}: ${message}`);
    this.name = 'NpyError';
  }
}

export function parseNpy(bytes: Uint8Array, source = '<buffer>'): HostTensor {
  if (bytes.byteLength < 10 || MAGIC.some((m, i) => bytes[i] !== m)) {
    throw new NpyError(source, 'not a .npy file (missing the \\x93NUMPY magic)');
  }
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  if (headerStart + headerLen > bytes.byteLength) throw new NpyError(source, 'header runs past the end of the file (truncated?)');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, headerStart + headerLen));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new NpyError(source, `unreadable header: ${header.trim()}`);
  if (fortran === 'True') throw new NpyError(source, 'Fortran-ordered arrays are not supported; save with np.ascontiguousarray');
  const dims = shapeText.split(',').map((s) => s.trim()).filter(Boolean);
  const shape = dims.map(Number);
  const badDim = dims.find((d, i) => !Number.isSafeInteger(shape[i]) || shape[i]! < 0);
  if (badDim !== undefined) throw new NpyError(source, `shape (${shapeText.trim()}) has the dimension ${badDim}; dimensions are non-negative integers (damaged header?)`);
  const m = /^([<>|=])([fiub])(\d+)$/.exec(descr);
  if (!m || m[2] !== 'f' || !['2', '4', '8'].includes(m[3]!)) {
    throw new NpyError(source, `dtype '${descr}' is not a float type; expected float32 ('<f4') embeddings`);
  }
  const littleEndian = m[1] !== '>';
  const width = Number(m[3]);
  const count = shapeSize(shape);
  const dataStart = headerStart + headerLen;
  if (dataStart + count * width > bytes.byteLength) {
    throw new NpyError(source, `shape (${shape.join(', ')}) of '${descr}' needs ${count * width} data bytes, file has ${bytes.byteLength - dataStart} (truncated?)`);
  }
  const data = new Float32Array(count);
  for (let i = 0, o = dataStart; i < count; i++, o += width) {
    data[i] = width === 4 ? view.getFloat32(o, littleEndian) : width === 8 ? view.getFloat64(o, littleEndian) : float16ToNumber(view.getUint16(o, littleEndian));
  }
  return { shape, data };
}

/** Serialises float32 data as a version-1.0 `.npy` (little-endian '<f4', C order). */
export function serializeNpy(t: HostTensor): Uint8Array {
  if (shapeSize(t.shape) !== t.data.length) {
    throw new Error(`serializeNpy: shape [${t.shape.join(', ')}] needs ${shapeSize(t.shape)} values, got ${t.data.length}`);
  }
  const shapeText = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // Header padded with spaces and terminated by \n so data starts at a multiple of 64 bytes.
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + t.data.length * 4);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  const view = new DataView(out.buffer);
  view.setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const base = 10 + header.length;
  for (let i = 0; i < t.data.length; i++) view.setFloat32(base + i * 4, t.data[i]!, true);
  return out;
}
