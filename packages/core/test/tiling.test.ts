import { tf, selectBackend, type HostTensor } from '../src';
import { planAxis, tiledProcess, tileStarts, type TileInfo } from '../src/tiling';

function image(batch: number, height: number, width: number, channels: number, seed = 1): HostTensor {
  let s = seed;
  const data = Float32Array.from({ length: batch * height * width * channels }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  });
  return { shape: [batch, height, width, channels], data };
}

const identity = async (t: HostTensor) => ({ shape: [...t.shape], data: Float32Array.from(t.data) });

describe('tile grid', () => {
  test('tiles are full size, the last one aligned to the edge; short axes are one tile', () => {
    expect(tileStarts(100, 256, 32)).toEqual([0]);
    expect(tileStarts(256, 256, 32)).toEqual([0]);
    expect(tileStarts(600, 256, 32)).toEqual([0, 224, 344]);
    expect(tileStarts(480, 256, 32)).toEqual([0, 224]);
    expect(planAxis(100, 256, 32).size).toBe(100);
  });

  test('weights cross-fade linearly inside overlaps, are 1 elsewhere, and sum to 1 across a pair', () => {
    const axis = planAxis(480, 256, 32);
    const [a, b] = axis.weights as [Float64Array, Float64Array];
    expect(a[0]).toBe(1); // image border
    expect(b[255]).toBe(1);
    expect(a[200]).toBe(1);
    for (let i = 0; i < 32; i++) {
      expect(b[i]).toBeCloseTo((i + 0.5) / 32, 12);
      expect(a[224 + i]! + b[i]!).toBeCloseTo(1, 12);
    }
    for (let p = 0; p < 480; p++) expect(axis.total[p]).toBeCloseTo(1, 12);
  });
});

describe('tiledProcess', () => {
  test.each([
    ['several tiles with overlap', 2, 70, 90, 3, 32, 8],
    ['image smaller than a tile', 1, 20, 12, 3, 32, 8],
    ['one tile row, uneven last tile', 1, 32, 100, 1, 32, 5],
    ['no overlap', 1, 64, 64, 2, 32, 0],
    ['non-square tiles', 1, 50, 61, 3, [16, 24] as [number, number], 6],
  ])('an identity process reproduces the input exactly: %s', async (_name, b, h, w, c, tileSize, overlap) => {
    const img = image(b, h, w, c);
    const seen: TileInfo[] = [];
    const out = await tiledProcess(img, identity, { tileSize, overlap, onProgress: (_d, _t, info) => seen.push(info) });
    expect(out.shape).toEqual([b, h, w, c]);
    expect(Buffer.from(out.data.buffer).equals(Buffer.from(img.data.buffer))).toBe(true);
    expect(seen.map((s) => s.index)).toEqual(seen.map((_, i) => i));
    expect(seen.at(-1)!.count).toBe(seen.length);
  });

  test('tiles cover the image, stay inside it and come in row-major order', async () => {
    const tiles: TileInfo[] = [];
    await tiledProcess(image(1, 70, 90, 1), async (t, info) => (tiles.push(info), t), { tileSize: 32, overlap: 8 });
    const covered = new Uint8Array(70 * 90);
    for (const t of tiles) {
      expect(t.y + t.height).toBeLessThanOrEqual(70);
      expect(t.x + t.width).toBeLessThanOrEqual(90);
      for (let y = t.y; y < t.y + t.height; y++) for (let x = t.x; x < t.x + t.width; x++) covered[y * 90 + x] = 1;
    }
    expect(covered.every((v) => v === 1)).toBe(true);
    const order = tiles.map((t) => [t.y, t.x]);
    expect(order).toEqual([...order].sort((p, q) => p[0]! - q[0]! || p[1]! - q[1]!));
  });

  test('blending is seamless: tiles that disagree by a constant blend into a ramp without jumps', async () => {
    // Each tile adds its own offset (its index); with the linear cross-fade the result changes
    // smoothly across every overlap: no step larger than (offset difference) / overlap.
    const overlap = 16;
    const out = await tiledProcess(
      { shape: [1, 1, 200, 1], data: new Float32Array(200) },
      async (t, info) => ({ shape: t.shape, data: t.data.map(() => info.index * 10) }),
      { tileSize: [1, 64], overlap },
    );
    let maxStep = 0;
    for (let x = 1; x < 200; x++) maxStep = Math.max(maxStep, Math.abs(out.data[x]! - out.data[x - 1]!));
    expect(maxStep).toBeLessThanOrEqual(10 / overlap + 1e-4);
    expect(out.data[0]).toBe(0);
    expect(out.data[199]).toBe(30); // 4 tiles: starts 0, 48, 96, 136
  });

  test('output channels may differ from the input; deterministic across runs', async () => {
    const img = image(1, 40, 40, 3);
    const toGray = async (t: HostTensor) => {
      const n = t.data.length / 3;
      const data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = (t.data[3 * i]! + t.data[3 * i + 1]! + t.data[3 * i + 2]!) / 3;
      return { shape: [t.shape[0]!, t.shape[1]!, t.shape[2]!, 1], data };
    };
    const a = await tiledProcess(img, toGray, { tileSize: 16, overlap: 4 });
    const b = await tiledProcess(img, toGray, { tileSize: 16, overlap: 4 });
    expect(a.shape).toEqual([1, 40, 40, 1]);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    for (let i = 0; i < 1600; i++) expect(a.data[i]).toBeCloseTo((img.data[3 * i]! + img.data[3 * i + 1]! + img.data[3 * i + 2]!) / 3, 6);
  });

  test('tfjs tensors in and out; tiles are disposed', async () => {
    await selectBackend('cpu');
    const img = image(1, 30, 50, 2);
    const x = tf.tensor4d(img.data, [1, 30, 50, 2]);
    const before = tf.memory().numTensors;
    const out = await tiledProcess(x, async (t) => tf.mul(t, 2) as tf.Tensor4D, { tileSize: 16, overlap: 4 });
    expect(tf.memory().numTensors).toBe(before + 1);
    const data = await out.data();
    for (let i = 0; i < data.length; i++) expect(data[i]).toBeCloseTo(img.data[i]! * 2, 6);
    tf.dispose([x, out]);
  });

  test('bad options and bad tile outputs fail with specific errors; abort stops between tiles', async () => {
    const img = image(1, 40, 40, 1);
    await expect(tiledProcess(img, identity, { tileSize: 16, overlap: 16 })).rejects.toThrow(/overlap must be an integer in \[0, tile size\)/);
    await expect(tiledProcess(img, identity, { tileSize: 0 })).rejects.toThrow(/tileSize must be a positive integer/);
    await expect(tiledProcess({ shape: [40, 40], data: new Float32Array(1600) }, identity)).rejects.toThrow(/expected an NHWC image/);
    await expect(tiledProcess(img, async (t) => ({ shape: [1, 8, 8, 1], data: new Float32Array(64) }), { tileSize: 16, overlap: 4 })).rejects.toThrow(
      /tile 0 \(16×16 at y 0, x 0\) must come back as \[1, 16, 16, channels\], got \[1, 8, 8, 1\]/,
    );
    const controller = new AbortController();
    let calls = 0;
    const run = tiledProcess(img, async (t) => {
      if (++calls === 2) controller.abort(new Error('stop here'));
      return t;
    }, { tileSize: 16, overlap: 4, signal: controller.signal });
    await expect(run).rejects.toThrow('stop here');
    expect(calls).toBe(2);
  });
});
