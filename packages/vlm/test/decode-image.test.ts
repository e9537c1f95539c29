import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { decodeImage, ImageDecodeError, tensorToImages } from '../src';

let dir: string;
const W = 5;
const H = 3;
const ramp = (n: number, scale: number, offset = 0) => Array.from({ length: n }, (_, i) => (i * scale + offset) % 256);

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vlm-decode-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function writePng(name: string, data: Uint8Array | Uint16Array, channels: 1 | 2 | 3 | 4, colourspace: string): Promise<string> {
  const file = path.join(dir, name);
  await sharp(data, { raw: { width: W, height: H, channels } }).toColourspace(colourspace).png().toFile(file);
  return file;
}

describe('decodeImage', () => {
  it('gray → the gray value in R, G and B', async () => {
    const gray = Uint8Array.from(ramp(W * H, 17));
    const file = await writePng('gray.png', gray, 1, 'b-w');
    expect((await sharp(file).metadata()).channels).toBe(1);
    const img = await decodeImage(file, file);
    expect(img.channels).toBe(3);
    expect(Array.from(img.data)).toEqual(Array.from(gray).flatMap((v) => [v, v, v]));
  });

  it('alpha is dropped, not composited (as PIL convert("RGB")): transparent pixels keep their colour', async () => {
    const rgba = Uint8Array.from(ramp(W * H * 4, 29, 3));
    for (let p = 0; p < W * H; p++) rgba[p * 4 + 3] = p % 2 ? 0 : 128;
    const file = await writePng('rgba.png', rgba, 4, 'srgb');
    const img = await decodeImage(file, file);
    const rgb = Array.from({ length: W * H }, (_, p) => [rgba[p * 4]!, rgba[p * 4 + 1]!, rgba[p * 4 + 2]!]).flat();
    expect(Array.from(img.data)).toEqual(rgb);
  });

  it('gray + alpha → gray in R, G, B, alpha dropped', async () => {
    const la = Uint8Array.from(ramp(W * H * 2, 13, 1));
    const file = await writePng('la.png', la, 2, 'b-w');
    expect((await sharp(file).metadata()).channels).toBe(2);
    const img = await decodeImage(file, file);
    expect(Array.from(img.data)).toEqual(Array.from({ length: W * H }, (_, p) => [la[p * 2]!, la[p * 2]!, la[p * 2]!]).flat());
  });

  it('16-bit RGB → the high byte, as Pillow reads 16-bit PNGs', async () => {
    const rgb16 = Uint16Array.from({ length: W * H * 3 }, (_, i) => (i * 4099 + 77) % 65536);
    const file = await writePng('rgb16.png', rgb16, 3, 'rgb16');
    expect((await sharp(file).metadata()).depth).toBe('ushort');
    const img = await decodeImage(file, file);
    expect(Array.from(img.data)).toEqual(Array.from(rgb16).map((v) => v >> 8));
  });

  it('16-bit gray → the high byte in R, G and B', async () => {
    const g16 = Uint16Array.from({ length: W * H }, (_, i) => (i * 9001 + 300) % 65536);
    const file = await writePng('gray16.png', g16, 1, 'grey16');
    const img = await decodeImage(file, file);
    expect(Array.from(img.data)).toEqual(Array.from(g16).flatMap((v) => [v >> 8, v >> 8, v >> 8]));
  });

  it('a path, a Buffer, a sharp instance and raw pixels decode to the same RGB', async () => {
    const rgb = Uint8Array.from(ramp(W * H * 3, 7));
    const file = await writePng('rgb.png', rgb, 3, 'srgb');
    const fromPath = await decodeImage(file, 'path');
    const fromBuffer = await decodeImage(fs.readFileSync(file), 'buffer');
    const fromSharp = await decodeImage(sharp(file), 'sharp');
    const fromRaw = await decodeImage({ data: rgb, width: W, height: H, channels: 3 }, 'raw');
    const fromRaw16 = await decodeImage({ data: Uint16Array.from(rgb, (v) => v * 256 + 255), width: W, height: H, channels: 3 }, 'raw16');
    for (const img of [fromPath, fromBuffer, fromSharp, fromRaw, fromRaw16]) expect(Array.from(img.data)).toEqual(Array.from(rgb));
  });

  it('a corrupt or truncated file is an ImageDecodeError naming the file', async () => {
    const garbage = path.join(dir, 'garbage.png');
    fs.writeFileSync(garbage, 'this is not an image');
    await expect(decodeImage(garbage, garbage)).rejects.toThrow(ImageDecodeError);
    await expect(decodeImage(garbage, garbage)).rejects.toThrow(`${garbage}: cannot decode image`);
    const good = fs.readFileSync(await writePng('big.png', Uint8Array.from(ramp(W * H * 3, 91)), 3, 'srgb'));
    const truncated = path.join(dir, 'truncated.png');
    fs.writeFileSync(truncated, good.subarray(0, Math.floor(good.length / 2)));
    await expect(decodeImage(truncated, truncated)).rejects.toThrow(`${truncated}: cannot decode image`);
    await expect(decodeImage(path.join(dir, 'missing.png'), 'missing.png')).rejects.toThrow(/missing.png: cannot decode image/);
  });
});

describe('tensorToImages', () => {
  it('NHWC [0, 1] floats → the 8-bit pixels they came from', () => {
    const pixels = Uint8Array.from(ramp(2 * H * W * 3, 11));
    const images = tensorToImages({ shape: [2, H, W, 3], data: Float32Array.from(pixels, (v) => v / 255) });
    expect(images).toHaveLength(2);
    expect(Array.from(images[0]!.data)).toEqual(Array.from(pixels.subarray(0, H * W * 3)));
    expect(Array.from(images[1]!.data)).toEqual(Array.from(pixels.subarray(H * W * 3)));
  });

  it('accepts [H, W, C], 1-channel tensors and dataSync() tensors; clamps out-of-range values', () => {
    const [img] = tensorToImages({ shape: [1, 2, 1], dataSync: () => Float32Array.from([-0.5, 1.5]) });
    expect(Array.from(img!.data)).toEqual([0, 0, 0, 255, 255, 255]);
  });

  it('rejects bad shapes and NaN', () => {
    expect(() => tensorToImages({ shape: [2, 2], data: new Float32Array(4) })).toThrow(/expected an NHWC tensor/);
    expect(() => tensorToImages({ shape: [1, 1, 1, 5], data: new Float32Array(5) })).toThrow(/1–4 channels/);
    expect(() => tensorToImages({ shape: [1, 1, 1, 3], data: new Float32Array(2) })).toThrow(/needs 3 values, got 2/);
    expect(() => tensorToImages({ shape: [1, 1, 1, 1], data: Float32Array.from([NaN]) })).toThrow(/NaN/);
  });
});
