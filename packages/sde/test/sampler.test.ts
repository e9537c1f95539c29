import { selectBackend, tf } from '@srdiff/core';
import { IRSDE, InjectedNoise, SeededNoise, SamplingAbortedError, toyDenoiser, type Denoiser, type NoiseSource, type SamplerMethod } from '../src';
import { randomImage } from './helpers';

beforeAll(async () => {
  await selectBackend('wasm');
});

const toy = toyDenoiser();

/** A custom NoiseSource on tfjs's own seeded generator (fast under jest, whose sandbox slows plain-JS RNG loops). */
function tfNoise(seed: number): NoiseSource {
  let draw = 0;
  return { next: (shape) => tf.randomNormal([...shape], 0, 1, 'float32', seed * 100003 + draw++) };
}
const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);

describe('memory', () => {
  test('a 200-step posterior run on a 64×64 image leaves numTensors where it started', async () => {
    const sde = new IRSDE({ maxSigma: 50, T: 200, eps: 0.005 });
    const mu = randomImage([1, 64, 64, 3], 1);
    const before = tf.memory().numTensors;
    let peak = 0;
    const { x0 } = await sde.sample(toy, mu, { noise: tfNoise(3), onStep: () => void (peak = Math.max(peak, tf.memory().numTensors)) });
    expect(x0.shape).toEqual([1, 64, 64, 3]);
    x0.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(peak).toBeLessThanOrEqual(before + 1); // only the current state is alive between steps
    mu.dispose();
  });

  test.each(['sde', 'ode'] as SamplerMethod[])('%s sampler is flat too, also with a trajectory', async (method) => {
    const sde = new IRSDE({ maxSigma: 10, T: 50, eps: 0.005 });
    const mu = randomImage([2, 16, 16, 3], 2);
    const before = tf.memory().numTensors;
    const { x0, trajectory } = await sde.sample(toy, mu, { method, noise: 4, returnTrajectory: true });
    expect(trajectory!.shape).toEqual([51, 2, 16, 16, 3]);
    tf.dispose([x0, trajectory!]);
    expect(tf.memory().numTensors).toBe(before);
    mu.dispose();
  });
});

describe('sampling semantics', () => {
  test('with an oracle denoiser the posterior sampler recovers x0; SDE and ODE get close', async () => {
    const sde = new IRSDE({ maxSigma: 10, T: 100, eps: 0.005 });
    const x0 = randomImage([1, 16, 16, 3], 5);
    const mu = tf.tidy(() => tf.clipByValue(tf.add(tf.mul(x0, 0.6), 0.25), 0, 1)) as tf.Tensor4D;
    // The oracle knows x0 and returns the true noise of x_t; it receives t·sampleScale.
    const oracle: Denoiser = async (xt, m, t) => sde.realNoise(xt, x0, m, t / sde.sampleScale);
    const start = maxAbsDiff(mu, x0);
    const posterior = await sde.sample(oracle, mu, { noise: 1 });
    expect(maxAbsDiff(posterior.x0, x0)).toBeLessThan(1e-4);
    for (const method of ['sde', 'ode'] as SamplerMethod[]) {
      const { x0: restored } = await sde.sample(oracle, mu, { method, noise: 1 });
      const err = tf.tidy(() => tf.mean(tf.abs(tf.sub(restored, x0))).dataSync()[0]!);
      expect(err).toBeLessThan(0.1 * start);
      restored.dispose();
    }
    tf.dispose([x0, mu, posterior.x0]);
  });

  test('sampleT: fewer steps, the network sees t·T/sampleT', async () => {
    const trained = new IRSDE({ maxSigma: 10, T: 100, eps: 0.005 });
    const fast = trained.withSampleSteps(20);
    expect([fast.T, fast.sampleT, fast.sampleScale, fast.thetas.length, fast.eps]).toEqual([100, 20, 5, 21, 0.005]);
    const times: number[] = [];
    const mu = randomImage([1, 8, 8, 3], 6);
    const { x0 } = await fast.sample(async (x, m, t) => (times.push(t), toy(x, m, t)), mu, { noise: 2 });
    expect(times).toEqual(Array.from({ length: 20 }, (_, k) => (20 - k) * 5));
    tf.dispose([mu, x0]);
  });

  test('onStep reports (step, total, x) in order; context reaches the denoiser', async () => {
    const sde = new IRSDE({ maxSigma: 10, T: 6 });
    const mu = randomImage([1, 4, 4, 3], 7);
    const context = tf.ones([1, 16]);
    const calls: [number, number, number[]][] = [];
    const contexts: (tf.Tensor | undefined)[] = [];
    const { x0 } = await sde.sample(async (x, m, t, ctx) => (contexts.push(ctx), toy(x, m, t)), mu, {
      noise: 1,
      context,
      onStep: (step, total, x) => void calls.push([step, total, x.shape]),
    });
    expect(calls).toEqual([1, 2, 3, 4, 5, 6].map((s) => [s, 6, [1, 4, 4, 3]]));
    expect(contexts.every((c) => c === context)).toBe(true);
    tf.dispose([mu, context, x0]);
  });

  test('a seed reproduces a run, another seed does not; a given xT is used and kept', async () => {
    const sde = new IRSDE({ maxSigma: 50, T: 10 });
    const mu = randomImage([1, 8, 8, 3], 8);
    const a = await sde.sample(toy, mu, { noise: 11 });
    const b = await sde.sample(toy, mu, { noise: new SeededNoise(11) });
    const c = await sde.sample(toy, mu, { noise: 12 });
    expect(maxAbsDiff(a.x0, b.x0)).toBe(0);
    expect(maxAbsDiff(a.x0, c.x0)).toBeGreaterThan(1e-3);
    // Same run with x_T drawn by hand from the same stream.
    const source = new SeededNoise(11);
    const xT = sde.noiseState(mu, source);
    const d = await sde.sample(toy, mu, { noise: source, xT, returnTrajectory: true });
    expect(maxAbsDiff(a.x0, d.x0)).toBe(0);
    expect(xT.isDisposed).toBe(false);
    expect(maxAbsDiff(tf.squeeze(tf.slice(d.trajectory!, [0], [1]), [0]), xT)).toBe(0);
    tf.dispose([mu, a.x0, b.x0, c.x0, d.x0, d.trajectory!, xT]);
  });
});

describe('abort and bad input', () => {
  test('an AbortSignal stops between steps with an AbortError naming the step, leaking nothing', async () => {
    const sde = new IRSDE({ maxSigma: 10, T: 20 });
    const mu = randomImage([1, 8, 8, 3], 9);
    const before = tf.memory().numTensors;
    const controller = new AbortController();
    const run = sde.sample(toy, mu, { noise: 1, signal: controller.signal, returnTrajectory: true, onStep: (step) => void (step === 3 && controller.abort()) });
    await expect(run).rejects.toThrow(SamplingAbortedError);
    await expect(run).rejects.toMatchObject({ name: 'AbortError', step: 4, total: 20, t: 17, message: expect.stringMatching(/aborted before step 4 of 20 \(t = 17\)/) });
    expect(tf.memory().numTensors).toBe(before);
    mu.dispose();
  });

  test('injected noise: running out or a wrong shape is a clear error, leaking nothing', async () => {
    const sde = new IRSDE({ maxSigma: 10, T: 3 });
    const mu = randomImage([1, 4, 4, 3], 10);
    const draws = [0, 1, 2].map((s) => tf.randomNormal([1, 4, 4, 3], 0, 1, 'float32', s));
    const before = tf.memory().numTensors;
    await expect(sde.sample(toy, mu, { noise: new InjectedNoise(draws) })).rejects.toThrow(/all 3 pre-drawn tensors are used up \(draw 4 requested with shape \[1, 4, 4, 3\]\)/);
    const wrong = tf.zeros([1, 4, 4, 1]);
    await expect(sde.sample(toy, mu, { noise: new InjectedNoise([draws[0]!, wrong]) })).rejects.toThrow(/draw 1 has shape \[1, 4, 4, 1\] but \[1, 4, 4, 3\] was requested/);
    wrong.dispose();
    expect(tf.memory().numTensors).toBe(before);
    // The ODE needs only x_T.
    const { x0 } = await sde.sample(toy, mu, { method: 'ode', noise: new InjectedNoise([draws[0]!]) });
    expect(draws.every((d) => !d.isDisposed)).toBe(true);
    tf.dispose([mu, x0, ...draws]);
  });

  test('bad denoiser output, unknown method, mismatched xT', async () => {
    const sde = new IRSDE({ maxSigma: 10, T: 5 });
    const mu = randomImage([1, 4, 4, 3], 11);
    const before = tf.memory().numTensors;
    const wrongShape: Denoiser = async () => tf.zeros([1, 4, 4, 1]) as tf.Tensor4D;
    await expect(sde.sample(wrongShape, mu, { noise: 1 })).rejects.toThrow(/denoiser's output at step 1 of 5 \(t = 5\) has shape \[1, 4, 4, 1\]; expected the state's shape \[1, 4, 4, 3\]/);
    const failing: Denoiser = async (x, m, t) => {
      if (t === 3) throw new Error('engine crashed');
      return toy(x, m, t);
    };
    await expect(sde.sample(failing, mu, { noise: 1 })).rejects.toThrow('engine crashed');
    expect(tf.memory().numTensors).toBe(before);
    await expect(sde.sample(toy, mu, { method: 'ddim' as never })).rejects.toThrow(/unknown method "ddim"; expected one of 'posterior', 'sde', 'ode'/);
    const xT = tf.zeros([1, 4, 5, 3]) as tf.Tensor4D;
    await expect(sde.sample(toy, mu, { xT })).rejects.toThrow(/shape mismatch: mu is \[1, 4, 4, 3\] but xT is \[1, 4, 5, 3\]/);
    tf.dispose([mu, xT]);
  });
});
