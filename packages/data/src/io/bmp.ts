/**
 * A small BMP decoder for the formats cameras and old datasets actually use — uncompressed
 * (BI_RGB / BI_BITFIELDS) 24- and 32-bit and palettised 8-bit, bottom-up or top-down — because
 * libvips as bundled with sharp cannot read BMP. Returns packed RGB (or RGBA for 32-bit with alpha).
 */
export interface BmpPixels {
  width: number;
  height: number;
  channels: 3 | 4;
  data: Uint8Array;
}

export function isBmp(bytes: Uint8Array): boolean {
  return bytes.byteLength > 26 && bytes[0] === 0x42 && bytes[1] === 0x4d;
}

function maskShift(mask: number): [number, number] {
  if (mask === 0) return [0, 0];
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  let bits = 0;
  while (((mask >>> (shift + bits)) & 1) === 1) bits++;
  return [shift, bits];
}

export function decodeBmp(bytes: Uint8Array, source: string): BmpPixels {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dataOffset = view.getUint32(10, true);
  const headerSize = view.getUint32(14, true);
  if (headerSize < 40) throw new Error(`${source}: OS/2 BMP headers are not supported (header size ${headerSize})`);
  const width = view.getInt32(18, true);
  const rawHeight = view.getInt32(22, true);
  const bpp = view.getUint16(28, true);
  const compression = view.getUint32(30, true);
  const height = Math.abs(rawHeight);
  const topDown = rawHeight < 0;
  if (width <= 0 || height === 0) throw new Error(`${source}: invalid BMP size ${width}×${rawHeight}`);
  if (!(compression === 0 || (compression === 3 && bpp === 32))) {
    throw new Error(`${source}: compressed BMP (compression ${compression}) is not supported; convert it to PNG`);
  }
  if (![8, 24, 32].includes(bpp)) throw new Error(`${source}: ${bpp}-bit BMP is not supported (8, 24 and 32 are)`);
  const rowBytes = Math.ceil((width * bpp) / 32) * 4;
  if (dataOffset + rowBytes * height > bytes.byteLength) throw new Error(`${source}: BMP pixel data is truncated`);

  let masks: number[] = [0x00ff0000, 0x0000ff00, 0x000000ff, 0xff000000];
  if (compression === 3) {
    masks = [view.getUint32(54, true), view.getUint32(58, true), view.getUint32(62, true), headerSize >= 56 ? view.getUint32(66, true) : 0];
  } else if (bpp === 32) {
    masks[3] = 0; // BI_RGB 32-bit: the fourth byte is unused
  }
  const hasAlpha = bpp === 32 && masks[3] !== 0;
  const channels = hasAlpha ? 4 : 3;
  const out = new Uint8Array(width * height * channels);
  const palette: number[][] = [];
  if (bpp === 8) {
    const colours = view.getUint32(46, true) || 256;
    const base = 14 + headerSize;
    for (let i = 0; i < colours; i++) palette.push([bytes[base + i * 4 + 2]!, bytes[base + i * 4 + 1]!, bytes[base + i * 4]!]);
  }
  const shifts = masks.map(maskShift);
  const channelValue = (px: number, c: number) => {
    const [shift, bits] = shifts[c]!;
    if (bits === 0) return 255;
    const v = (px & masks[c]!) >>> shift;
    return bits === 8 ? v : Math.round((v * 255) / (2 ** bits - 1));
  };
  for (let y = 0; y < height; y++) {
    const row = dataOffset + (topDown ? y : height - 1 - y) * rowBytes;
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * channels;
      if (bpp === 8) {
        const colour = palette[bytes[row + x]!] ?? [0, 0, 0];
        out[o] = colour[0]!;
        out[o + 1] = colour[1]!;
        out[o + 2] = colour[2]!;
      } else if (bpp === 24) {
        out[o] = bytes[row + x * 3 + 2]!;
        out[o + 1] = bytes[row + x * 3 + 1]!;
        out[o + 2] = bytes[row + x * 3]!;
      } else {
        const px = view.getUint32(row + x * 4, true);
        for (let c = 0; c < channels; c++) out[o + c] = channelValue(px, c);
      }
    }
  }
  return { width, height, channels, data: out };
}
