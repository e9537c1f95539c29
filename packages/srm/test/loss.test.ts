import { Rng, selectBackend, tf } from '@srdiff/core';
import { HYBRID_LOSS_ALPHA, hybridLoss, rowCosineSimilarity } from '../src';

beforeAll(async () => {
  await selectBackend('wasm');
});

/** The loss written out in plain float64 JavaScript from its definition. */
function referenceLoss(p: Float32Array, t: Float32Array, rows: number, dim: number, alpha: number): number {
  let l1 = 0;
  let cos = 0;
  for (let r = 0; r < rows; r++) {
    let dot = 0, pp = 0, tt = 0;
    for (let j = 0; j < dim; j++) {
      const a = p[r * dim + j]!, b = t[r * dim + j]!;
      l1 += Math.abs(a - b);
      dot += a * b;
      pp += a * a;
      tt += b * b;
    }
    cos += 1 - dot / Math.sqrt((pp + 1e-12) * (tt + 1e-12));
  }
  return (alpha * l1) / (rows * dim) + ((1 - alpha) * cos) / rows;
}

describe('hybridLoss', () => {
  const rng = new Rng(7);
  const rows = 6, dim = 10;
  const p = rng.normalArray(rows * dim);
  const t = rng.normalArray(rows * dim);

  test.each([0, 0.3, HYBRID_LOSS_ALPHA, 1])('equals α·L1 + (1-α)·mean(1 - cos) for α = %p', (alpha) => {
    const loss = tf.tidy(() => hybridLoss(tf.tensor2d(p, [rows, dim]), tf.tensor2d(t, [rows, dim]), alpha).dataSync()[0]!);
    expect(Math.abs(loss - referenceLoss(p, t, rows, dim, alpha))).toBeLessThan(1e-6);
  });

  test('the default α is the original 0.7', () => {
    const [a, b] = tf.tidy(() => {
      const P = tf.tensor2d(p, [rows, dim]), T = tf.tensor2d(t, [rows, dim]);
      return [hybridLoss(P, T).dataSync()[0]!, hybridLoss(P, T, 0.7).dataSync()[0]!];
    });
    expect(a).toBe(b);
    expect(HYBRID_LOSS_ALPHA).toBe(0.7);
  });

  test('a zero row gives cosine 0 (PyTorch\'s 1e-12 guard), not NaN', () => {
    const cos = tf.tidy(() => rowCosineSimilarity(tf.tensor2d([0, 0, 0, 1, 2, 3], [2, 3]), tf.tensor2d([1, 2, 3, 2, 4, 6], [2, 3])).dataSync());
    expect(cos[0]).toBe(0);
    expect(cos[1]).toBeCloseTo(1, 6);
  });

  test('bad arguments are named', () => {
    const a = tf.zeros([2, 3]) as tf.Tensor2D;
    const b = tf.zeros([2, 4]) as tf.Tensor2D;
    expect(() => hybridLoss(a, b)).toThrow(/same shape, got \[2, 3\] and \[2, 4\]/);
    expect(() => hybridLoss(a, a, 1.5)).toThrow(/alpha must be in \[0, 1\], got 1.5/);
    tf.dispose([a, b]);
  });
});
