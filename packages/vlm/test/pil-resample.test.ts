import fs from 'node:fs';
import path from 'node:path';
import { pilResize, type PilFilter } from '../src';

interface PillowCase {
  width: number;
  height: number;
  outWidth: number;
  outHeight: number;
  src: string;
  dst: Record<string, string>;
}

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'pillow-resize', 'cases.json'), 'utf8')) as { pillow: string; cases: PillowCase[] };
const bytes = (b64: string) => new Uint8Array(Buffer.from(b64, 'base64'));

describe(`pilResize matches Pillow ${fixture.pillow} Image.resize exactly`, () => {
  const rows = fixture.cases.flatMap((c) => Object.keys(c.dst).map((f) => [`${c.width}x${c.height} -> ${c.outWidth}x${c.outHeight}, filter ${f}`, c, Number(f)] as const));
  it.each(rows)('%s', (_name, c, filter) => {
    const out = pilResize({ data: bytes(c.src), width: c.width, height: c.height, channels: 3 }, c.outWidth, c.outHeight, filter as PilFilter);
    expect(out.width).toBe(c.outWidth);
    expect(out.height).toBe(c.outHeight);
    const expected = bytes(c.dst[String(filter)]!);
    let mismatches = 0;
    for (let i = 0; i < expected.length; i++) if (out.data[i] !== expected[i]) mismatches++;
    expect(mismatches).toBe(0);
  });
});

describe('pilResize', () => {
  it('returns an unchanged copy when the size does not change', () => {
    const data = Uint8Array.from({ length: 4 * 3 * 3 }, (_, i) => (i * 37) % 256);
    const out = pilResize({ data, width: 4, height: 3, channels: 3 }, 4, 3);
    expect(Array.from(out.data)).toEqual(Array.from(data));
    expect(out.data).not.toBe(data);
  });

  it('keeps a constant image constant at every scale', () => {
    const data = new Uint8Array(13 * 7).fill(200);
    for (const [w, h] of [[5, 3], [26, 14], [1, 1], [13, 2]]) {
      const out = pilResize({ data, width: 13, height: 7, channels: 1 }, w!, h!);
      expect(new Set(out.data)).toEqual(new Set([200]));
    }
  });

  it('rejects bad sizes, filters and buffers with specific messages', () => {
    const img = { data: new Uint8Array(12), width: 2, height: 2, channels: 3 };
    expect(() => pilResize(img, 0, 2)).toThrow(/positive integers, got 0x2/);
    expect(() => pilResize(img, 2, 2, 0 as PilFilter)).toThrow(/unsupported resample filter 0/);
    expect(() => pilResize({ ...img, data: new Uint8Array(5) }, 1, 1)).toThrow(/needs 12 bytes, got 5/);
  });
});
