/**
 * A minimal safetensors reader (float32 / float64 tensors), so that the reference check needs no
 * tensor library. Layout: u64 little-endian header length, JSON header, raw little-endian data.
 */
export interface FloatTensor {
  shape: number[];
  data: Float64Array;
}

export function parseSafetensorsFloat(bytes: Uint8Array, source: string): Record<string, FloatTensor> {
  if (bytes.byteLength < 8) throw new Error(`${source}: too short to be a safetensors file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (8 + headerLen > bytes.byteLength) throw new Error(`${source}: header length ${headerLen} runs past the end of the file`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
  } catch (err) {
    throw new Error(`${source}: unreadable safetensors header (${(err as Error).message})`);
  }
  const base = 8 + headerLen;
  const out: Record<string, FloatTensor> = {};
  for (const [key, entry] of Object.entries(header)) {
    if (key === '__metadata__') continue;
    const width = entry.dtype === 'F32' ? 4 : entry.dtype === 'F64' ? 8 : 0;
    if (!width) throw new Error(`${source}: tensor '${key}' has dtype ${entry.dtype}; expected F32 or F64`);
    const [start, end] = entry.data_offsets;
    const count = entry.shape.reduce((a, b) => a * b, 1);
    if (end - start !== count * width || base + end > bytes.byteLength) {
      throw new Error(`${source}: tensor '${key}' [${entry.shape.join(', ')}] has inconsistent data offsets [${start}, ${end}]`);
    }
    const data = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const o = base + start + i * width;
      data[i] = width === 4 ? view.getFloat32(o, true) : view.getFloat64(o, true);
    }
    out[key] = { shape: [...entry.shape], data };
  }
  return out;
}
