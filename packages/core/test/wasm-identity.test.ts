import { selectBackend, tf } from '../src';

describe('wasm Identity (zero-copy clone)', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  test('a clone shares the buffer and outlives the original', () => {
    const before = tf.memory().numDataBuffers;
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    const y = tf.clone(x);
    expect(tf.memory().numDataBuffers).toBe(before + 1); // a copying Identity makes it + 2
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    y.dispose();
    expect(tf.memory().numDataBuffers).toBe(before);
  });

  test('tensors saved for the backward pass are shared, and the gradients are unchanged', () => {
    const square = tf.customGrad((a, save) => {
      (save as tf.GradSaveFunc)([a as tf.Tensor]);
      return { value: tf.square(a as tf.Tensor), gradFunc: (dy: tf.Tensor, [s]: tf.Tensor[]) => tf.mul(dy, tf.mul(s!, 2)) };
    });
    const x = tf.tensor1d([1, -2, 3]);
    const before = tf.memory().numDataBuffers;
    const { value, grad } = tf.valueAndGrad((a: tf.Tensor) => tf.sum(square(a) as tf.Tensor))(x);
    expect(value.dataSync()[0]).toBe(14);
    expect(Array.from(grad.dataSync())).toEqual([2, -4, 6]);
    value.dispose();
    grad.dispose();
    expect(tf.memory().numDataBuffers).toBe(before);
    x.dispose();
  });
});
