import fs from 'node:fs';
import path from 'node:path';
import sharp, { type Raw, type Sharp } from 'sharp';
import { selectBackend, tf } from '@srdiff/core';
import { tensor2img } from '@srdiff/metrics';
import { isImageFile, readImage, readImageInfo, readImageTensor, writeImage } from '../src';
import { rgbPixels, tempDir, writePng } from './helpers';

let dir: string;
beforeAll(async () => {
  await selectBackend('cpu');
  dir = tempDir();
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const W = 6;
const H = 4;
const pixels = rgbPixels(W, H, (x, y) => [x * 40 + 3, y * 60 + 7, 200 - x * 10 - y]);
const unit = (v: number) => Math.fround(v / 255);

function expectPixels(data: Float32Array, expected: Uint8Array, tolerance = 0): void {
  expect(data.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < data.length; i++) worst = Math.max(worst, Math.abs(data[i]! - expected[i]! / 255));
  if (tolerance === 0) expect(Array.from(data)).toEqual(Array.from(expected, unit));
  else expect(worst).toBeLessThanOrEqual(tolerance);
}

describe('readImage: every supported format to NHWC float32 [0, 1]', () => {
  test.each([
    ['png', (s: Sharp) => s.png()],
    ['webp', (s: Sharp) => s.webp({ lossless: true })],
    ['tiff', (s: Sharp) => s.tiff({ compression: 'lzw' })],
  ])('lossless %s decodes exactly (v / 255 in float32)', async (ext, encode) => {
    const file = path.join(dir, `exact.${ext}`);
    await encode(sharp(pixels, { raw: { width: W, height: H, channels: 3 } })).toFile(file);
    const img = await readImage(file);
    expect(img.shape).toEqual([1, H, W, 3]);
    expect(img.info.bitDepth).toBe(8);
    expectPixels(img.data, pixels);
  });

  test('jpeg decodes close to the source (lossy)', async () => {
    const file = path.join(dir, 'photo.JPG');
    const smooth = rgbPixels(32, 32, () => [120, 60, 200]);
    await sharp(smooth, { raw: { width: 32, height: 32, channels: 3 } }).jpeg({ quality: 95 }).toFile(file);
    const img = await readImage(file);
    expect(img.info.format).toBe('jpeg');
    expectPixels(img.data, smooth, 3 / 255);
  });

  test('gif: the first frame of an animation', async () => {
    const file = path.join(dir, 'anim.gif');
    // Two 4×4 frames stacked vertically: red, then blue.
    const frames = rgbPixels(4, 8, (_x, y) => (y < 4 ? [255, 0, 0] : [0, 0, 255]));
    await sharp(frames, { raw: { width: 4, height: 8, channels: 3, pageHeight: 4 } as Raw }).gif().toFile(file);
    const img = await readImage(file);
    expect(img.info.pages).toBe(2);
    expect(img.shape).toEqual([1, 4, 4, 3]);
    expectPixels(img.data, rgbPixels(4, 4, () => [255, 0, 0]));
  });

  test('16-bit PNG keeps 16 bits (v / 65535)', async () => {
    const file = path.join(dir, 'deep.png');
    const deep = Uint16Array.from({ length: W * H * 3 }, (_, i) => (i * 2731 + 17) % 65536);
    await sharp(deep, { raw: { width: W, height: H, channels: 3 } }).toColourspace('rgb16').png().toFile(file);
    const img = await readImage(file);
    expect(img.info.bitDepth).toBe(16);
    expect(Array.from(img.data)).toEqual(Array.from(deep, (v) => Math.fround(v / 65535)));
  });

  test('gray (8- and 16-bit) is replicated to three equal channels', async () => {
    const gray = Uint8Array.from({ length: W * H }, (_, i) => i * 10);
    const file = path.join(dir, 'gray.png');
    await writePng(file, W, H, gray, 1);
    const img = await readImage(file);
    expect(img.info.channels).toBe(1);
    expect(img.shape).toEqual([1, H, W, 3]);
    for (let i = 0; i < W * H; i++) expect([img.data[i * 3], img.data[i * 3 + 1], img.data[i * 3 + 2]]).toEqual([unit(gray[i]!), unit(gray[i]!), unit(gray[i]!)]);

    // Gray + alpha: alpha dropped, gray replicated.
    const grayAlpha = new Uint8Array(W * H * 2);
    for (let i = 0; i < W * H; i++) grayAlpha.set([gray[i]!, 10], i * 2);
    await writePng(path.join(dir, 'gray-alpha.png'), W, H, grayAlpha, 2);
    const ga = await readImage(path.join(dir, 'gray-alpha.png'));
    expect([ga.info.channels, ga.info.hasAlpha, ga.alpha]).toEqual([2, true, 'dropped']);
    expect(Array.from(ga.data.subarray(9, 12))).toEqual([unit(gray[3]!), unit(gray[3]!), unit(gray[3]!)]);

    const gray16 = Uint16Array.from({ length: W * H }, (_, i) => i * 2500);
    const file16 = path.join(dir, 'gray16.png');
    await sharp(gray16, { raw: { width: W, height: H, channels: 1 } }).toColourspace('grey16').png().toFile(file16);
    const img16 = await readImage(file16);
    expect(img16.info.bitDepth).toBe(16);
    expect(img16.data[3 * 5 + 1]).toBe(Math.fround(gray16[5]! / 65535));
  });

  test('alpha: dropped by default (colour kept), or composited over a background', async () => {
    const file = path.join(dir, 'alpha.png');
    const rgba = new Uint8Array(W * H * 4);
    for (let i = 0; i < W * H; i++) rgba.set([200, 100, 50, i % 2 ? 0 : 128], i * 4);
    await writePng(file, W, H, rgba, 4);
    const dropped = await readImage(file);
    expect(dropped.alpha).toBe('dropped');
    expect(Array.from(dropped.data.subarray(0, 6))).toEqual([200, 100, 50, 200, 100, 50].map(unit));

    const white = await readImage(file, { alpha: 'composite' });
    expect(white.alpha).toBe('composited');
    // Fully transparent pixel → the background; half-transparent → halfway.
    expect(Array.from(white.data.subarray(3, 6))).toEqual([1, 1, 1]);
    expect(white.data[0]).toBeCloseTo((200 * 128 + 255 * 127) / 255 / 255, 2);
    const black = await readImage(file, { alpha: 'composite', background: [0, 0, 0] });
    expect(Array.from(black.data.subarray(3, 6))).toEqual([0, 0, 0]);
  });

  test('EXIF orientation is applied', async () => {
    // Stored 32×16, left half red, right half blue; orientation 6 = rotate 90° clockwise to display.
    const file = path.join(dir, 'rotated.jpg');
    const stored = rgbPixels(32, 16, (x) => (x < 16 ? [255, 0, 0] : [0, 0, 255]));
    await sharp(stored, { raw: { width: 32, height: 16, channels: 3 } }).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toFile(file);
    const info = await readImageInfo(file);
    expect([info.width, info.height, info.orientation]).toEqual([16, 32, 6]);
    const img = await readImage(file);
    expect(img.shape).toEqual([1, 32, 16, 3]);
    const at = (x: number, y: number) => Array.from(img.data.subarray((y * 16 + x) * 3, (y * 16 + x) * 3 + 3)).map((v) => Math.round(v));
    expect(at(8, 4)).toEqual([1, 0, 0]); // red on top
    expect(at(8, 28)).toEqual([0, 0, 1]); // blue below
  });

  test('BMP (24-bit bottom-up and 32-bit top-down) through the built-in decoder', async () => {
    const bmp24 = makeBmp(3, 2, 24, false, (x, y) => [x * 80, y * 100, 7]);
    fs.writeFileSync(path.join(dir, 'a.bmp'), bmp24);
    const a = await readImage(path.join(dir, 'a.bmp'));
    expect(a.info.format).toBe('bmp');
    expectPixels(a.data, rgbPixels(3, 2, (x, y) => [x * 80, y * 100, 7]));
    const bmp32 = makeBmp(2, 3, 32, true, (x, y) => [x * 90, 11, y * 70]);
    fs.writeFileSync(path.join(dir, 'b.bmp'), bmp32);
    expectPixels((await readImage(path.join(dir, 'b.bmp'))).data, rgbPixels(2, 3, (x, y) => [x * 90, 11, y * 70]));
  });

  test('unreadable files are errors that name the file', async () => {
    const bad = path.join(dir, 'broken.png');
    fs.writeFileSync(bad, 'not an image');
    await expect(readImage(bad)).rejects.toThrow(`${bad}: cannot decode image`);
    const truncated = path.join(dir, 'truncated.png');
    const good = fs.readFileSync(path.join(dir, 'exact.png'));
    fs.writeFileSync(truncated, good.subarray(0, good.length - 30));
    await expect(readImage(truncated)).rejects.toThrow(truncated);
    await expect(readImage(path.join(dir, 'nope.png'))).rejects.toThrow(/nope\.png: cannot read \(ENOENT\)/);
  });

  test('isImageFile knows the extensions', () => {
    expect(['a.png', 'b.JPEG', 'c.webp', 'd.tif', 'e.gif', 'f.bmp'].every(isImageFile)).toBe(true);
    expect(['a.npy', 'notes.txt', 'png'].some(isImageFile)).toBe(false);
  });
});

describe('writeImage', () => {
  test('PNG round trip: tensor2img quantisation (round half to even), then exact decode', async () => {
    const values = new Float32Array(W * H * 3);
    for (let i = 0; i < values.length; i++) values[i] = i % 5 === 0 ? Math.fround((i % 200 + 0.5) / 255) : (i * 0.013) % 1.2 - 0.1;
    const file = path.join(dir, 'out', 'round.png');
    await writeImage(file, { shape: [H, W, 3], data: values });
    const back = await readImage(file);
    expect(Array.from(back.data)).toEqual(Array.from(tensor2img(values), unit));
    expect(fs.readdirSync(path.dirname(file))).toEqual(['round.png']); // no temp files left
  });

  test('accepts a tfjs tensor [1, H, W, 3] and reads back as one', async () => {
    const t = tf.tensor4d(Array.from(pixels, (v) => v / 255), [1, H, W, 3]);
    const file = path.join(dir, 'tensor.png');
    await writeImage(file, t);
    t.dispose();
    const before = tf.memory().numTensors;
    const back = await readImageTensor(file);
    expect(back.shape).toEqual([1, H, W, 3]);
    expect(Array.from(back.dataSync())).toEqual(Array.from(pixels, unit));
    back.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  test('rejects what it cannot write', async () => {
    await expect(writeImage(path.join(dir, 'x.png'), { shape: [2, H, W, 3], data: new Float32Array(2 * H * W * 3) })).rejects.toThrow(/\[H, W, C\] or \[1, H, W, C\]/);
    await expect(writeImage(path.join(dir, 'x.exr'), { shape: [H, W, 3], data: new Float32Array(H * W * 3) })).rejects.toThrow(/unsupported extension/);
  });
});

/** A minimal BMP writer for the decoder test (BITMAPINFOHEADER / V4 with masks for 32-bit). */
function makeBmp(width: number, height: number, bpp: 24 | 32, topDown: boolean, fn: (x: number, y: number) => [number, number, number]): Buffer {
  const rowBytes = Math.ceil((width * bpp) / 32) * 4;
  const headerSize = bpp === 32 ? 108 : 40;
  const offset = 14 + headerSize;
  const buf = Buffer.alloc(offset + rowBytes * height);
  buf.write('BM', 0, 'ascii');
  buf.writeUInt32LE(buf.length, 2);
  buf.writeUInt32LE(offset, 10);
  buf.writeUInt32LE(headerSize, 14);
  buf.writeInt32LE(width, 18);
  buf.writeInt32LE(topDown ? -height : height, 22);
  buf.writeUInt16LE(1, 26);
  buf.writeUInt16LE(bpp, 28);
  buf.writeUInt32LE(bpp === 32 ? 3 : 0, 30);
  if (bpp === 32) {
    buf.writeUInt32LE(0x00ff0000, 54);
    buf.writeUInt32LE(0x0000ff00, 58);
    buf.writeUInt32LE(0x000000ff, 62);
    buf.writeUInt32LE(0x00000000, 66);
  }
  for (let y = 0; y < height; y++) {
    const row = offset + (topDown ? y : height - 1 - y) * rowBytes;
    for (let x = 0; x < width; x++) {
      const [r, g, b] = fn(x, y);
      const o = row + x * (bpp / 8);
      buf[o] = b;
      buf[o + 1] = g;
      buf[o + 2] = r;
      if (bpp === 32) buf[o + 3] = 0;
    }
  }
  return buf;
}
