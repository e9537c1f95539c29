import { ChannelLayerNorm, LayerNorm, selectBackend, tf } from '../src';

/** PyTorch's layer norm composed from tfjs ops (autodiff gradients): the reference for the closed form. */
function composed(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor | undefined, eps: number): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  const y = tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), weight);
  return bias ? tf.add(y, bias) : y;
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

/** Values and gradients (for a random weighting of the output) agree within tol (gradients 10·tol). */
function sameWithGradients(inputs: tf.Tensor[], ours: (...xs: tf.Tensor[]) => tf.Tensor, reference: (...xs: tf.Tensor[]) => tf.Tensor, tol: number): void {
  tf.tidy(() => {
    const weights = tf.randomNormal(reference(...inputs).shape, 0, 1, 'float32', 5);
    const loss = (f: (...xs: tf.Tensor[]) => tf.Tensor) => (...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), weights)) as tf.Scalar;
    expect(maxAbsDiff(ours(...inputs), reference(...inputs))).toBeLessThan(tol);
    const a = tf.grads(loss(ours))(inputs);
    const b = tf.grads(loss(reference))(inputs);
    a.forEach((g, i) => expect(maxAbsDiff(g, b[i]!)).toBeLessThan(tol * 10));
  });
}

describe.each(['wasm', 'cpu'] as const)('layer norms on %s', (backend) => {
  beforeAll(async () => {
    await selectBackend(backend);
  });

  test('LayerNorm and ChannelLayerNorm (closed-form gradient) equal the composed ops, values and gradients', () => {
    const channel = new ChannelLayerNorm(6);
    const last = new LayerNorm(6);
    tf.tidy(() => {
      channel.g.assign(tf.randomNormal([1, 6, 1, 1], 1, 0.3, 'float32', 1));
      last.weight.assign(tf.randomNormal([6], 1, 0.3, 'float32', 2));
      last.bias.assign(tf.randomNormal([6], 0, 0.3, 'float32', 3));
    });
    const x = tf.mul(tf.randomNormal([2, 3, 4, 6], 0.5, 1, 'float32', 4), 3);
    sameWithGradients([x, channel.g], (a) => channel.forward(a as tf.Tensor4D), (a, g) => composed(a!, tf.reshape(g!, [6]), undefined, channel.eps), 1e-5);
    sameWithGradients([x, last.weight, last.bias], (a) => last.forward(a!), (a, w, b) => composed(a!, w!, b, last.eps), 1e-5);
    tf.dispose(x);
    channel.dispose();
    last.dispose();
  });

  test('leaves no tensors behind', () => {
    const last = new LayerNorm(4);
    const x = tf.randomNormal([3, 4]);
    const before = tf.memory().numTensors;
    tf.dispose(last.forward(x));
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(x);
    last.dispose();
  });
});
