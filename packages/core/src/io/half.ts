/** IEEE 754 half precision (float16) bits to a number. */
export function float16ToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** bfloat16 bits to a number (the upper half of a float32). */
export function bfloat16ToNumber(b: number): number {
  const buf = new DataView(new ArrayBuffer(4));
  buf.setUint32(0, (b & 0xffff) << 16, false);
  return buf.getFloat32(0, false);
}
