import fs from 'node:fs';
import path from 'node:path';
import { BLIP_TOLERANCES, createBlipEmbedder, verifyBlipReference, type VerifyRow } from '../src';

const fixture = path.join(__dirname, 'fixtures', 'tiny-blip');
const expected = JSON.parse(fs.readFileSync(path.join(fixture, 'expected.json'), 'utf8')) as {
  images: { file: string; cls_embedding_slow: { data: number[] }; cls_embedding_fast: { data: number[] } }[];
};

/**
 * Parity with Hugging Face transformers on the original's get_cls_embedding call path (fixture
 * README): resized pixels identical, pixel_values at float32 rounding, vision and per-layer
 * decoder states within 1e-5 relative, the embedding within 1e-4 for all three images (square,
 * non-square, grayscale) in both preprocessing modes.
 */
describe('tiny-blip parity with Hugging Face transformers', () => {
  let rows: VerifyRow[];
  beforeAll(async () => {
    rows = await verifyBlipReference(fixture);
  }, 60_000);

  const find = (image: string, key: string) => {
    const row = rows.find((r) => r.case === `tiny-blip/${image}` && r.key === key);
    if (!row) throw new Error(`no row ${image} ${key}; have ${rows.map((r) => `${r.case} ${r.key}`).join(', ')}`);
    return row;
  };
  const images = ['rgb_square_40x40', 'rgb_wide_57x23', 'gray_29x29'];

  it('passes every row, with the tolerances of the issue', () => {
    const failing = rows.filter((r) => !r.pass);
    expect(failing).toEqual([]);
    // config + per mode 3 images × (resize, pixels, cls, cls from reference pixels, batched cls), + the
    // reference's vision state and 3 decoder states (image 0, slow).
    expect(rows).toHaveLength(1 + 2 * 3 * 5 + 4);
  });

  it.each(['slow', 'fast'] as const)('%s: pixels exact, embedding within 1e-4 for every image', (mode) => {
    for (const image of images) {
      expect(find(image, `resized_uint8 (${mode})`).error).toBe(0);
      expect(find(image, `pixel_values (${mode})`).error).toBe(0);
      const cls = find(image, `cls_embedding (${mode})`);
      expect(cls).toMatchObject({ kind: 'abs', tolerance: BLIP_TOLERANCES.cls_embedding.value });
      // Measured ≤ 1e-6; the issue's bound is 1e-4.
      expect(cls.error).toBeLessThan(1e-4);
    }
  });

  it('vision last_hidden_state and every decoder position-0 state within 1e-5 relative (the reference has them for image 0, slow)', () => {
    for (const key of ['vision_last_hidden_state', 'decoder_pos0.embeddings', 'decoder_pos0.layer0', 'decoder_pos0.layer1']) {
      const row = find('rgb_square_40x40', `${key} (slow)`);
      expect(row.kind).toBe('rel');
      expect(row.error).toBeLessThanOrEqual(1e-5);
    }
  });

  it('the two modes are different computations (fast is what the fixture calls _fast)', async () => {
    const slow = await createBlipEmbedder({ model: path.join(fixture, 'model'), allowRemote: false });
    const fast = await createBlipEmbedder({ model: path.join(fixture, 'model'), allowRemote: false, preprocessing: 'fast' });
    try {
      const file = path.join(fixture, expected.images[1]!.file);
      const [s] = await slow.extract([file]);
      const [f] = await fast.extract([file]);
      const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i]!)));
      // The reference measured 6.8e-3 between the modes on this image: far above the 1e-4 tolerance.
      expect(maxDiff(s!, f!)).toBeGreaterThan(1e-3);
      expect(maxDiff(f!, expected.images[1]!.cls_embedding_fast.data)).toBeLessThan(1e-4);
      expect(maxDiff(s!, expected.images[1]!.cls_embedding_slow.data)).toBeLessThan(1e-4);
    } finally {
      await slow.dispose();
      await fast.dispose();
    }
  });
});
