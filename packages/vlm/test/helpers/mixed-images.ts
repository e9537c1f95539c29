import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

/** Writes `count` small images in mixed formats, bit depths and channel layouts; returns their names. */
export async function writeMixedImages(dir: string, count: number): Promise<string[]> {
  fs.mkdirSync(dir, { recursive: true });
  const kinds = ['png', 'jpg', 'webp', 'tiff', 'gif', 'png16', 'gray', 'rgba'] as const;
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const kind = kinds[i % kinds.length]!;
    const width = 20 + ((i * 7) % 41);
    const height = 18 + ((i * 11) % 37);
    const channels = kind === 'gray' ? 1 : kind === 'rgba' ? 4 : 3;
    const data = new Uint8Array(width * height * channels);
    for (let p = 0; p < width * height; p++) {
      const x = p % width;
      const y = Math.floor(p / width);
      for (let c = 0; c < channels; c++) data[p * channels + c] = (x * (5 + c) + y * (3 + i) + i * 17 + c * 60) % 256;
    }
    let img = sharp(data, { raw: { width, height, channels } });
    let ext: string = kind;
    if (kind === 'png16') {
      img = sharp(Uint16Array.from(data, (v) => v * 257), { raw: { width, height, channels } }).toColourspace('rgb16').png();
      ext = 'png';
    } else if (kind === 'gray') {
      img = img.toColourspace('b-w').png();
      ext = 'png';
    } else if (kind === 'rgba') {
      img = img.png();
      ext = 'png';
    } else if (kind === 'jpg') img = img.jpeg({ quality: 90 });
    else img = img.toFormat(kind);
    const name = `img_${String(i).padStart(2, '0')}_${kind}.${ext}`;
    await img.toFile(path.join(dir, name));
    names.push(name);
  }
  return names;
}
