import fs from 'node:fs';
import path from 'node:path';
import { clipPixelValues, parseClipPreprocessConfig } from '../src';
import { centerCrop, resizeTarget } from '../src/preprocess/clip-image-processor';

const fixtureConfig = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'tiny-clip', 'model', 'preprocessor_config.json'), 'utf8'));

describe('parseClipPreprocessConfig', () => {
  it('reads the fixture config', () => {
    const c = parseClipPreprocessConfig(fixtureConfig);
    expect(c.size).toEqual({ shortestEdge: 32 });
    expect(c.cropSize).toEqual({ height: 32, width: 32 });
    expect(c.resample).toBe(3);
    expect(c.imageMean).toEqual([0.48145466, 0.4578275, 0.40821073]);
  });

  it("reads the old integer sizes of openai/clip-vit-base-patch32's config", () => {
    const c = parseClipPreprocessConfig({ size: 224, crop_size: 224, resample: 3 });
    expect(c.size).toEqual({ shortestEdge: 224 });
    expect(c.cropSize).toEqual({ height: 224, width: 224 });
  });

  it('names the bad key', () => {
    expect(() => parseClipPreprocessConfig({ size: { foo: 1 } }, 'cfg.json')).toThrow(/cfg.json: 'size' must be/);
    expect(() => parseClipPreprocessConfig({ resample: 0 }, 'cfg.json')).toThrow(/'resample' 0 is not supported/);
    expect(() => parseClipPreprocessConfig({ image_mean: [1, 2] }, 'cfg.json')).toThrow(/'image_mean' must be/);
    expect(() => parseClipPreprocessConfig({ crop_size: { height: -1, width: 3 } }, 'cfg.json')).toThrow(/'crop_size.height' must be a positive integer/);
  });
});

describe('HF CLIP resize and crop geometry', () => {
  it('resizes the shortest edge and truncates the long one like int()', () => {
    expect(resizeTarget(50, 40, { shortestEdge: 32 })).toEqual([40, 32]);
    expect(resizeTarget(40, 50, { shortestEdge: 32 })).toEqual([32, 40]);
    expect(resizeTarget(333, 500, { shortestEdge: 224 })).toEqual([224, 336]); // 336.33 -> 336
    expect(resizeTarget(10, 10, { height: 7, width: 9 })).toEqual([9, 7]);
  });

  it('crops at floor((in - crop) / 2) and zero-pads centred (ceil) when too small', () => {
    const img = (w: number, h: number) => ({ data: Uint8Array.from({ length: w * h }, (_, i) => i + 1), width: w, height: h, channels: 1 });
    // 5 wide -> 2: left = 1
    expect(Array.from(centerCrop(img(5, 1), 2, 1).data)).toEqual([2, 3]);
    // 2 wide -> 5: padded with ceil(3 / 2) = 2 zeros before, 1 after
    expect(Array.from(centerCrop(img(2, 1), 5, 1).data)).toEqual([0, 0, 1, 2, 0]);
    // 1 high -> 2 high: ceil(1 / 2) = 1 zero row first
    expect(Array.from(centerCrop(img(1, 1), 1, 2).data)).toEqual([0, 1]);
  });

  it('rescales in float64 and normalises in float32 like numpy', () => {
    const c = parseClipPreprocessConfig({ ...fixtureConfig, do_resize: false, do_center_crop: false });
    const pixel = { data: Uint8Array.from([0, 128, 255]), width: 1, height: 1, channels: 3 };
    const { data, dims } = clipPixelValues([pixel], c);
    expect(dims).toEqual([1, 3, 1, 1]);
    const f = Math.fround;
    const expected = [0, 128, 255].map((v, ch) => f(f(f(v * (1 / 255)) - f(c.imageMean[ch]!)) / f(c.imageStd[ch]!)));
    expect(Array.from(data)).toEqual(expected);
  });

  it('refuses to batch images that preprocess to different sizes', () => {
    const c = parseClipPreprocessConfig({ ...fixtureConfig, do_center_crop: false });
    const a = { data: new Uint8Array(40 * 32 * 3), width: 40, height: 32, channels: 3 };
    const b = { data: new Uint8Array(32 * 32 * 3), width: 32, height: 32, channels: 3 };
    expect(() => clipPixelValues([a, b], c)).toThrow(/image 1 preprocesses to 32x32, image 0 to 40x32/);
  });
});
