import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { imageDataToTensor, readImage, tensorToImageData, writeImage } from '../src';

// A page reads pixels from a canvas (RGBA) and writes them back the same way; both conversions
// must be Node's (readImage / writeImage), so the browser restores the same image as srdiff restore.
describe('ImageData <-> tensor (the browser helpers)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'data-image-data-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const width = 7;
  const height = 5;
  const rgb = Uint8Array.from({ length: width * height * 3 }, (_, i) => (i * 37 + 11) % 256);

  it('imageDataToTensor equals readImage of the same pixels (alpha dropped)', async () => {
    const file = path.join(dir, 'a.png');
    await sharp(Buffer.from(rgb), { raw: { width, height, channels: 3 } }).png().toFile(file);
    const rgba = new Uint8ClampedArray(width * height * 4);
    for (let p = 0; p < width * height; p++) {
      rgba.set(rgb.subarray(p * 3, p * 3 + 3), p * 4);
      rgba[p * 4 + 3] = p % 3 === 0 ? 0 : 255; // alpha is dropped, colour kept, as readImage does
    }
    const fromPage = imageDataToTensor({ width, height, data: rgba });
    const fromFile = await readImage(file);
    expect(fromPage.shape).toEqual(fromFile.shape);
    expect(Array.from(fromPage.data)).toEqual(Array.from(fromFile.data));
  });

  it('tensorToImageData quantises as writeImage does (clamp, round half to even), opaque', async () => {
    const values = Float32Array.from({ length: width * height * 3 }, (_, i) => (i % 11) / 10 - 0.05 + (i % 2) * (0.5 / 255));
    const image = { shape: [1, height, width, 3], data: values };
    const file = path.join(dir, 'b.png');
    await writeImage(file, image);
    const { data } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
    const page = tensorToImageData(image);
    expect([page.width, page.height]).toEqual([width, height]);
    for (let p = 0; p < width * height; p++) {
      expect(Array.from(page.data.subarray(p * 4, p * 4 + 3))).toEqual(Array.from(data.subarray(p * 3, p * 3 + 3)));
      expect(page.data[p * 4 + 3]).toBe(255);
    }
  });

  it('rejects pixels that do not fit the size, naming both', () => {
    expect(() => imageDataToTensor({ width: 2, height: 2, data: new Uint8ClampedArray(15) })).toThrow(/2×2 RGBA needs 16 bytes, got 15/);
    expect(() => tensorToImageData({ shape: [1, 2, 2, 1], data: new Float32Array(4) })).toThrow(/expected \[1, H, W, 3\]/);
  });
});
