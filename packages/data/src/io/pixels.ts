const UNIT_FROM_8BIT = Float32Array.from({ length: 256 }, (_, v) => v / 255);

/** Float32 [0, 1] values of raw pixels (8-bit: `v / 255` in float32, as the original's `astype(float32) / 255`). */
export function rawToFloat(raw: { bitDepth: 8 | 16; data: Uint8Array | Uint16Array }): Float32Array {
  const out = new Float32Array(raw.data.length);
  if (raw.bitDepth === 8) {
    for (let i = 0; i < out.length; i++) out[i] = UNIT_FROM_8BIT[raw.data[i]!]!;
  } else {
    for (let i = 0; i < out.length; i++) out[i] = raw.data[i]! / 65535;
  }
  return out;
}
