import { Rng, selectBackend, tf } from '@srdiff/core';
import { IRSDE, SCHEDULES } from '../src';
import { randomImage } from './helpers';

beforeAll(async () => {
  await selectBackend('wasm');
});

const sde = new IRSDE({ maxSigma: 10, T: 100, schedule: 'cosine', eps: 0.005 });

describe('construction', () => {
  test('max_sigma ≥ 1 is in 0–255 units, < 1 is used as is', () => {
    expect(new IRSDE({ maxSigma: 50, T: 10 }).maxSigma).toBe(50 / 255);
    expect(new IRSDE({ maxSigma: 0.2, T: 10 }).maxSigma).toBe(0.2);
    expect(new IRSDE({ maxSigma: 1, T: 10 }).maxSigma).toBe(1 / 255);
  });

  test('defaults are the original constructor\'s (cosine, eps 0.01, float32 tables)', () => {
    const s = new IRSDE({ maxSigma: 10, T: 20 });
    expect([s.schedule, s.eps, s.tablePrecision, s.sampleT, s.sampleScale]).toEqual(['cosine', 0.01, 'float32', 20, 1]);
  });

  test.each(SCHEDULES.map((s) => [s]))('%s tables: Θ_0 = 0, the mean reaches eps at T, σ̄ approaches max_sigma', (schedule) => {
    const s = new IRSDE({ maxSigma: 50, T: 30, schedule, eps: 0.005 });
    expect(s.thetas).toHaveLength(31);
    expect(s.thetasCumsum[0]).toBe(0);
    expect(s.sigmaBars[0]).toBe(0);
    expect(s.weight(30)).toBeCloseTo(0.005, 6); // exp(-Θ_T·dt) = eps: what eps means
    expect(s.sigmaBar(30)).toBeCloseTo(s.maxSigma * Math.sqrt(1 - 0.005 ** 2), 6);
    for (let t = 1; t <= 30; t++) {
      expect(s.sigma(t)).toBeCloseTo(Math.sqrt(2 * s.maxSigma ** 2 * s.theta(t)), 6);
      if (t > 1) expect(s.sigmaBar(t)).toBeGreaterThan(s.sigmaBar(t - 1));
    }
  });

  test('T = 1 works (a single step)', () => {
    const s = new IRSDE({ maxSigma: 10, T: 1, eps: 0.01 });
    expect(s.weight(1)).toBeCloseTo(0.01, 6);
  });

  test('bad options are clear errors', () => {
    expect(() => new IRSDE({ maxSigma: 10, T: 0 })).toThrow(/T must be an integer ≥ 1.*got 0/);
    expect(() => new IRSDE({ maxSigma: 10, T: 2.5 })).toThrow(/T must be an integer/);
    expect(() => new IRSDE({ maxSigma: 10, T: 10, schedule: 'sigmoid' as never })).toThrow(/unknown schedule "sigmoid"; expected one of 'cosine', 'linear', 'constant'/);
    expect(() => new IRSDE({ maxSigma: -1, T: 10 })).toThrow(/maxSigma must be a positive number/);
    expect(() => new IRSDE({ maxSigma: 10, T: 10, eps: 1 })).toThrow(/eps must be in \(0, 1\)/);
    expect(() => new IRSDE({ maxSigma: 10, T: 10, sampleT: 0 })).toThrow(/sampleT must be an integer ≥ 1/);
  });
});

describe('timesteps', () => {
  test('t outside 1..T is a clear error, for numbers, lists and tensors', () => {
    const x = tf.zeros([2, 4, 4, 3]) as tf.Tensor4D;
    expect(() => sde.sigmaBar(0)).toThrow(/sigmaBar: t must be an integer in 1\.\.100 \(t = 0 is not a process step\), got 0/);
    expect(() => sde.reverseOptimumStd(101)).toThrow(/1\.\.100.*got 101/);
    expect(() => sde.muBar(x, x, 1.5)).toThrow(/muBar: t must be an integer/);
    expect(() => sde.muBar(x, x, [3, 0])).toThrow(/muBar \(timestep 1\): t must be an integer in 1\.\.100/);
    const bad = tf.tensor1d([5, 200], 'int32');
    expect(() => sde.drift(x, x, bad)).toThrow(/drift \(timestep 1\).*got 200/);
    expect(() => sde.drift(x, x, [1, 2, 3])).toThrow(/got 3 timesteps for a batch of 2/);
    expect(() => sde.drift(x, x, tf.zeros([2, 2], 'int32'))).toThrow(/shape \[B\] or \[B,1,1,1\]/);
    tf.dispose([x, bad]);
  });

  test('per-batch timesteps gather each element\'s coefficients (number[], [B] and [B,1,1,1] tensors)', () => {
    const x0 = randomImage([3, 5, 4, 3], 1);
    const mu = randomImage([3, 5, 4, 3], 2);
    const ts = [1, 37, 100];
    const perElement = ts.map((t, i) => sde.muBar(tf.slice(x0, [i], [1]), tf.slice(mu, [i], [1]), t));
    const expected = tf.concat(perElement);
    const t1 = tf.tensor1d(ts, 'int32');
    const t4 = tf.tensor4d(ts, [3, 1, 1, 1], 'int32');
    for (const t of [ts, t1, t4]) {
      const got = sde.muBar(x0, mu, t);
      expect(Array.from(got.dataSync())).toEqual(Array.from(expected.dataSync()));
      got.dispose();
    }
    tf.dispose([x0, mu, expected, t1, t4, ...perElement]);
  });
});

describe('closed forms', () => {
  test('shape mismatch between x and mu is a clear error', () => {
    const x = tf.zeros([1, 8, 8, 3]) as tf.Tensor4D;
    const mu = tf.zeros([1, 8, 6, 3]) as tf.Tensor4D;
    const flat = tf.zeros([8, 8, 3]) as unknown as tf.Tensor4D;
    expect(() => sde.drift(x, mu, 5)).toThrow(/drift: shape mismatch: x is \[1, 8, 8, 3\] but mu is \[1, 8, 6, 3\]/);
    expect(() => sde.reverseOptimumStep(x, x, mu, 5)).toThrow(/reverseOptimumStep: shape mismatch.*mu/);
    expect(() => sde.muBar(flat, flat, 5)).toThrow(/x0 must be a 4-D \[batch, height, width, channels\] tensor/);
    tf.dispose([x, mu, flat]);
  });

  test('the real noise inverts the forward state, and x0 is recovered from it', () => {
    const x0 = randomImage([2, 6, 6, 3], 3);
    const mu = randomImage([2, 6, 6, 3], 4);
    const z = tf.randomNormal([2, 6, 6, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    for (const t of [2, 50, 100]) {
      const xt = sde.forwardState(x0, mu, t, z);
      const noise = sde.realNoise(xt, x0, mu, t);
      expect(tf.max(tf.abs(tf.sub(noise, z))).dataSync()[0]).toBeLessThan(2e-3);
      const back = sde.initStateFromNoise(xt, z, mu, t);
      expect(tf.max(tf.abs(tf.sub(back, x0))).dataSync()[0]).toBeLessThan(1e-4 * Math.exp(sde.thetasCumsum[t]! * sde.dt));
      // score = -noise/σ̄ is the true score -(x_t - muBar)/σ̄²
      const s1 = sde.scoreFromNoise(noise, t);
      const s2 = sde.realScore(xt, x0, mu, t);
      expect(tf.max(tf.abs(tf.sub(s1, s2))).dataSync()[0]).toBeLessThan(1e-3 * tf.max(tf.abs(s2)).dataSync()[0]!);
      tf.dispose([xt, noise, back, s1, s2]);
    }
    tf.dispose([x0, mu, z]);
  });

  test('the posterior step interpolates: at t = 1 it returns x0, its coefficients reproduce the forward marginals', () => {
    const x0 = randomImage([1, 4, 4, 3], 6);
    const mu = randomImage([1, 4, 4, 3], 7);
    const xt = randomImage([1, 4, 4, 3], 8);
    const at1 = sde.reverseOptimumStep(xt, x0, mu, 1);
    expect(tf.max(tf.abs(tf.sub(at1, x0))).dataSync()[0]).toBeLessThan(1e-4);
    // Mean consistency: E[x_{t-1}|x0] = xtCoef·E[x_t - mu|x0] + x0Coef·(x0 - mu) + mu = muBar(x0, t-1).
    const c = sde.coefficients;
    for (const t of [2, 30, 99]) {
      const lhs = c.posteriorXtCoef[t]! * sde.weight(t) + c.posteriorX0Coef[t]!;
      // float32 coefficients: 1 - B² cancels at small t (the reference allows 2e-4 at t = 2)
      expect(Math.abs(lhs - sde.weight(t - 1)) / sde.weight(t - 1)).toBeLessThan(t === 2 ? 2e-4 : 1e-5);
    }
    tf.dispose([x0, mu, xt, at1]);
  });

  test('the reverse SDE step subtracts the noise term (the original\'s sign)', () => {
    const x = randomImage([1, 4, 4, 3], 9);
    const mu = randomImage([1, 4, 4, 3], 10);
    const score = tf.zerosLike(x);
    const z = tf.onesLike(x);
    const mean = sde.reverseSdeStepMean(x, score, mu, 40);
    const stepped = sde.reverseSdeStep(x, score, mu, 40, z);
    const expected = sde.sigma(40) * Math.sqrt(sde.dt);
    expect(tf.mean(tf.sub(mean, stepped)).dataSync()[0]).toBeCloseTo(expected, 7);
    const disp = sde.dispersion(z, 40);
    expect(disp.dataSync()[0]).toBeCloseTo(expected, 7);
    tf.dispose([x, mu, score, z, mean, stepped, disp]);
  });

  test('closed forms keep no intermediate tensors', () => {
    const x = randomImage([2, 4, 4, 3], 11);
    const before = tf.memory().numTensors;
    const out = [sde.reverseOptimumStep(x, x, x, [3, 4]), sde.realScore(x, x, x, 9), sde.reversePosteriorStep(x, x, x, 5, x)];
    expect(tf.memory().numTensors).toBe(before + out.length);
    tf.dispose([x, ...out]);
  });
});

describe('training helpers', () => {
  test('randomStates draws t in 1..T and x_t = forwardState with the rng\'s next normal draws', () => {
    const x0 = randomImage([4, 8, 8, 3], 12);
    const mu = randomImage([4, 8, 8, 3], 13);
    const { timesteps, states } = sde.randomStates(x0, mu, new Rng(42));
    expect(timesteps).toHaveLength(4);
    for (const t of timesteps) expect(Number.isInteger(t) && t >= 1 && t <= 100).toBe(true);
    const replay = new Rng(42);
    const ts = timesteps.map(() => replay.int(1, 100));
    expect(ts).toEqual(timesteps);
    const z = tf.tensor(replay.normalArray(x0.size), x0.shape) as tf.Tensor4D;
    const expected = sde.forwardState(x0, mu, ts, z);
    expect(Array.from(states.dataSync())).toEqual(Array.from(expected.dataSync()));
    // Given timesteps are used as is; one number applies to the whole batch.
    const fixed = sde.randomStates(x0, mu, new Rng(1), 60);
    expect(fixed.timesteps).toEqual([60, 60, 60, 60]);
    tf.dispose([x0, mu, states, z, expected, fixed.states]);
  });

  test('forward states have the marginal N(muBar, σ̄²)', () => {
    const x0 = tf.fill([1, 64, 64, 3], 0.8) as tf.Tensor4D;
    const mu = tf.fill([1, 64, 64, 3], 0.3) as tf.Tensor4D;
    const { states } = sde.randomStates(x0, mu, new Rng(7), [30]);
    const standardized = tf.div(tf.sub(states, 0.3 + 0.5 * sde.weight(30)), sde.sigmaBar(30));
    const { mean, variance } = tf.moments(standardized);
    expect(Math.abs(mean.dataSync()[0]!)).toBeLessThan(0.05); // 12288 draws: 4.5 standard errors
    expect(Math.abs(Math.sqrt(variance.dataSync()[0]!) - 1)).toBeLessThan(0.05);
    tf.dispose([x0, mu, states, standardized, mean, variance]);
  });

});
