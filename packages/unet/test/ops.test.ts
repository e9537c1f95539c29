import { Conv2d, manualSeed, selectBackend, tf } from '@srdiff/core';
import { groupedAttention } from '../src/ops/attention';
import { convParts } from '../src/ops/conv-parts';
import { modulatedSilu, silu } from '../src/ops/silu';
import { batchMatMul, matMul2d } from '../src/ops/matmul';
import { concatRows, splitRows } from '../src/ops/split-rows';
import { upsample2x } from '../src/ops/upsample';
import { maxAbsDiff } from './helpers';

/** Values and gradients of `ours` and `reference` (same inputs) agree. */
function sameWithGradients(inputs: tf.Tensor[], ours: (...xs: tf.Tensor[]) => tf.Tensor, reference: (...xs: tf.Tensor[]) => tf.Tensor, tol = 1e-5): void {
  tf.tidy(() => {
    const weights = tf.randomNormal(reference(...inputs).shape, 0, 1, 'float32', 5);
    const loss = (f: (...xs: tf.Tensor[]) => tf.Tensor) => (...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), weights)) as tf.Scalar;
    expect(maxAbsDiff(ours(...inputs), reference(...inputs))).toBeLessThan(tol);
    const a = tf.grads(loss(ours))(inputs);
    const b = tf.grads(loss(reference))(inputs);
    a.forEach((g, i) => expect(maxAbsDiff(g, b[i]!)).toBeLessThan(tol * 10));
  });
}

describe.each(['wasm', 'cpu'] as const)('ops on %s', (backend) => {
  beforeAll(async () => {
    await selectBackend(backend);
  });

  test('splitRows / concatRows: values and gradients (unused pieces contribute zeros)', () => {
    const x = tf.randomNormal([6, 5, 3], 0, 1, 'float32', 1);
    const pieces = splitRows(x, 3);
    expect(pieces.map((p) => p.shape)).toEqual([[2, 5, 3], [2, 5, 3], [2, 5, 3]]);
    expect(maxAbsDiff(pieces[1]!, tf.slice(x, [2, 0, 0], [2, -1, -1]))).toBe(0);
    sameWithGradients([x], (t) => tf.mul(splitRows(t, 3)[2]!, 2), (t) => tf.mul(tf.slice(t, [4, 0, 0], [2, -1, -1]), 2));
    sameWithGradients([x], (t) => concatRows(splitRows(t, 3).reverse()), (t) => tf.concat(tf.split(t, 3, 0).reverse(), 0));
    expect(() => splitRows(x, 4)).toThrow(/cannot split axis 0 of \[6, 5, 3\] into 4 equal parts/);
    tf.dispose([x, ...pieces]);
  });

  test('matMul2d and batchMatMul: values and gradients equal tf.matMul', () => {
    const a = tf.randomNormal([7, 5], 0, 1, 'float32', 2);
    const b = tf.randomNormal([5, 300], 0, 1, 'float32', 3);
    sameWithGradients([a, b], (x, y) => matMul2d(x as tf.Tensor2D, y as tf.Tensor2D), (x, y) => tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D));
    const tall = tf.randomNormal([300, 4], 0, 1, 'float32', 4);
    const wide = tf.randomNormal([4, 6], 0, 1, 'float32', 5);
    sameWithGradients([tall, wide], (x, y) => matMul2d(x as tf.Tensor2D, y as tf.Tensor2D), (x, y) => tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D));
    const ba = tf.randomNormal([3, 4, 9], 0, 1, 'float32', 6);
    const bb = tf.randomNormal([3, 9, 2], 0, 1, 'float32', 7);
    sameWithGradients([ba, bb], (x, y) => batchMatMul(x as tf.Tensor3D, y as tf.Tensor3D), (x, y) => tf.matMul(x as tf.Tensor3D, y as tf.Tensor3D));
    tf.dispose([a, b, tall, wide, ba, bb]);
  });

  test('groupedAttention (packed with masked cross-group scores, or one product per group) equals softmax(q·kᵀ·s)·v', () => {
    const reference = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => tf.matMul(tf.softmax(tf.mul(tf.matMul(q as tf.Tensor3D, k as tf.Tensor3D, false, true), 0.3)), v as tf.Tensor3D);
    for (const [g, n, m] of [[6, 5, 7], [1, 9, 9], [3, 600, 600], [16, 64, 64], [8, 64, 1]]) {
      const q = tf.randomNormal([g!, n!, 4], 0, 1, 'float32', 1);
      const k = tf.randomNormal([g!, m!, 4], 0, 1, 'float32', 2);
      const v = tf.randomNormal([g!, m!, 4], 0, 1, 'float32', 3);
      sameWithGradients([q, k, v], (a, b, c) => groupedAttention(a as tf.Tensor3D, b as tf.Tensor3D, c as tf.Tensor3D, 0.3), reference, 2e-5);
      tf.dispose([q, k, v]);
    }
  });

  test('silu and the scale-shift + silu with closed-form gradients equal the composed ops', () => {
    const ref = (z: tf.Tensor) => tf.mul(z, tf.sigmoid(z));
    const h = tf.mul(tf.randomNormal([2, 3, 4, 5], 0, 1, 'float32', 1), 3);
    sameWithGradients([h], (a) => silu(a!), (a) => ref(a!), 1e-5);
    for (const batch of [2, 1]) {
      const scale = tf.randomNormal([batch, 1, 1, 5], 0, 0.5, 'float32', 2);
      const shift = tf.randomNormal([batch, 1, 1, 5], 0, 0.5, 'float32', 3);
      sameWithGradients([h, scale, shift], (a, b, c) => modulatedSilu(a as tf.Tensor4D, b!, c!), (a, b, c) => ref(tf.add(tf.mul(a!, tf.add(b!, 1)), c!)), 1e-5);
      tf.dispose([scale, shift]);
    }
    tf.dispose(h);
  });

  test('convParts equals the layer on the concatenation, gradients included', () => {
    manualSeed(4);
    for (const [k, stride, padding] of [[3, 1, 1], [4, 2, 1], [1, 1, 0]] as const) {
      const layer = new Conv2d(5, 4, k, { stride, padding });
      const x1 = tf.randomNormal([2, 6, 6, 3], 0, 1, 'float32', 8) as tf.Tensor4D;
      const x2 = tf.randomNormal([2, 6, 6, 2], 0, 1, 'float32', 9);
      sameWithGradients([x1, x2, layer.weight, layer.bias!], (a, b) => convParts(layer, [a as tf.Tensor4D, b as tf.Tensor4D]), (a, b) => layer.forward(tf.concat([a!, b!], 3) as tf.Tensor4D), 1e-5);
      expect(() => convParts(layer, [x1])).toThrow(/the parts have 3 = 3 channels, expected 5/);
      tf.dispose([x1, x2]);
      layer.dispose();
    }
  });
});

describe.each(['wasm', 'cpu'] as const)('upsample2x on %s', (backend) => {
  test('gradient is the 2×2 block sum, for batches > 1 too', async () => {
    await selectBackend(backend);
    tf.tidy(() => {
      for (const shape of [[2, 8, 8, 8], [2, 3, 5, 2], [1, 4, 4, 3]] as Array<[number, number, number, number]>) {
        const x = tf.randomNormal(shape, 0, 1, 'float32', 1) as tf.Tensor4D;
        const y = upsample2x(x);
        expect(y.shape).toEqual([shape[0], 2 * shape[1], 2 * shape[2], shape[3]]);
        expect(maxAbsDiff(tf.slice(y, [0, 1, 1, 0], [-1, 1, 1, -1]), tf.slice(x, [0, 0, 0, 0], [-1, 1, 1, -1]))).toBe(0);
        const probe = tf.randomNormal(y.shape, 0, 1, 'float32', 2);
        const [dx] = tf.grads((a: tf.Tensor) => tf.sum(tf.mul(upsample2x(a as tf.Tensor4D), probe)) as tf.Scalar)([x]);
        const [b, h, w, c] = shape;
        const blockSum = tf.sum(tf.sum(tf.reshape(probe, [b, h, 2, w, 2, c]), 4), 2);
        expect(maxAbsDiff(dx!, blockSum)).toBeLessThan(1e-5);
      }
    });
  });
});
