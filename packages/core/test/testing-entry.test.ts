import fs from 'node:fs';
import path from 'node:path';
import { selectBackend, tf, writeSafetensors } from '../src';
import * as io from '../src/io';
import { absError, fixtureTensors, nchwValues, nhwc, randomImage, relError, tempDir } from '../src/testing';

beforeAll(() => selectBackend('cpu'));

describe('@srdiff/core/testing', () => {
  test("relError / absError: the reference sets' measures; a length mismatch or NaN is Infinity", () => {
    expect(relError([1, 2.5, -4], [1, 2, -4])).toBeCloseTo(0.5 / 4, 12);
    expect(absError([1, 2.5, -4], [1, 2, -4])).toBeCloseTo(0.5, 12);
    expect(relError([0.25, 0], [0, 0])).toBe(0.25);
    expect(relError([1, 2], [1, 2, 3])).toBe(Infinity);
    expect(absError([NaN], [1])).toBe(Infinity);
  });

  test('nhwc and nchwValues are inverse layouts of a [B, C, H, W] reference', () => {
    const host = { shape: [1, 2, 2, 3], data: Float32Array.from({ length: 12 }, (_, i) => i) };
    const t = nhwc(host);
    expect(t.shape).toEqual([1, 2, 3, 2]);
    // Channel 1 at (h 0, w 2) is NCHW index 1·6 + 0·3 + 2 = 8.
    expect(t.arraySync()[0]![0]![2]![1]).toBe(8);
    expect(Array.from(nchwValues(t))).toEqual(Array.from(host.data));
    const img = randomImage([1, 4, 4, 3], 7);
    expect(Array.from(img.dataSync())).toEqual(Array.from(randomImage([1, 4, 4, 3], 7).dataSync()));
    expect(Math.max(...img.dataSync())).toBeLessThan(1);
    tf.dispose([t, img]);
  });

  test('tempDir and fixtureTensors', async () => {
    const dir = tempDir('core-testing-');
    try {
      await writeSafetensors(path.join(dir, 'a.safetensors'), { w: { shape: [2], data: Float32Array.of(1, 2) } });
      expect((await fixtureTensors(dir, 'a.safetensors')).w!.data).toEqual(Float32Array.of(1, 2));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('@srdiff/core/io', () => {
  test('the file formats alone: the same functions as the main entry', async () => {
    const core = await import('../src');
    for (const name of ['parseSafetensors', 'readSafetensors', 'writeSafetensors', 'serializeNpy', 'parseNpy', 'writeFileAtomic'] as const) {
      expect(typeof (io as Record<string, unknown>)[name]).toBe('function');
      expect((io as Record<string, unknown>)[name]).toBe((core as Record<string, unknown>)[name]);
    }
  });
});
