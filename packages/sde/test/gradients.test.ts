import { selectBackend, tf } from '@srdiff/core';
import { IRSDE } from '../src';
import { randomImage } from './helpers';

beforeAll(async () => {
  await selectBackend('wasm');
});

const sde = new IRSDE({ maxSigma: 10, T: 100, schedule: 'cosine', eps: 0.005 });

describe('training target gradients', () => {
  test('the matching loss is differentiable in the predicted noise, with the analytic gradient', () => {
    const x0 = randomImage([2, 4, 4, 3], 14);
    const mu = randomImage([2, 4, 4, 3], 15);
    const state = randomImage([2, 4, 4, 3], 16);
    const noisePred = tf.randomNormal([2, 4, 4, 3], 0, 1, 'float32', 17) as tf.Tensor4D;
    const ts = [7, 88];
    const grad = tf.grad((n: tf.Tensor) => sde.matchingLoss(n as tf.Tensor4D, state, x0, mu, ts))(noisePred);
    // expectation = state - (θ(mu - state) + σ²·n/σ̄)·dt, so d|e - o|/dn = -sign(e - o)·σ²·dt/σ̄ / N.
    const { expectation, optimum } = sde.matchingPair(noisePred, state, x0, mu, ts);
    const sign = tf.sign(tf.sub(expectation, optimum)).dataSync();
    const g = grad.dataSync();
    const perElement = x0.size / 2;
    for (let i = 0; i < g.length; i++) {
      const t = ts[Math.floor(i / perElement)]!;
      const expected = (-sign[i]! * sde.coefficients.sigmaSq[t]! * sde.dt) / sde.sigmaBar(t) / g.length;
      expect(g[i]).toBeCloseTo(expected, 8);
    }
    tf.dispose([x0, mu, state, noisePred, grad, expectation, optimum]);
  });
});
