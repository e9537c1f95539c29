import { manualSeed, selectBackend, tf } from '@srdiff/core';
import { IRSDE } from '@srdiff/sde';
import { ConditionalUNet, unetDenoiser } from '../src';
import { image, maxAbsDiff } from './helpers';

const base = { in_nc: 3, out_nc: 3, nf: 8, ch_mult: [1, 2], context_dim: 16 };

beforeAll(async () => {
  await selectBackend('wasm');
});

test('unetDenoiser is the network as @srdiff/sde\'s Denoiser: (xt, mu, t, context) → noise, and drives a sampler', async () => {
  manualSeed(1);
  const model = new ConditionalUNet({ ...base, ch_mult: [1, 2, 4, 8], use_degra_context: false, use_image_context: true });
  const denoiser = unetDenoiser(model);
  const xt = image([2, 16, 16, 3], 1);
  const mu = image([2, 16, 16, 3], 2);
  const context = tf.randomNormal([2, 16], 0, 1, 'float32', 3);
  const viaAdapter = await denoiser(xt, mu, 37.5, context);
  const direct = model.forward(xt, mu, 37.5, { imageContext: context });
  expect(maxAbsDiff(viaAdapter, direct)).toBe(0);

  const sde = new IRSDE({ maxSigma: 50, T: 100, schedule: 'cosine', eps: 0.005, sampleT: 2 });
  const before = tf.memory().numTensors;
  const { x0 } = await sde.sample(denoiser, mu, { context, noise: 7 });
  expect(x0.shape).toEqual([2, 16, 16, 3]);
  x0.dispose();
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose([xt, mu, context, viaAdapter, direct]);
  model.dispose();
});

test('the context feeds the prompt path when the network has no cross-attention', async () => {
  manualSeed(2);
  const model = new ConditionalUNet({ ...base, use_degra_context: true, use_image_context: false });
  const x = image([1, 16, 16, 3], 4);
  const text = tf.randomNormal([1, 16], 0, 1, 'float32', 5);
  const out = await unetDenoiser(model)(x, x, 3, text);
  expect(maxAbsDiff(out, model.forward(x, x, 3, { textContext: text }))).toBe(0);
  await expect(unetDenoiser(model, { contextAs: 'image' })(x, x, 3, text)).rejects.toThrow(/imageContext was given but this network has no cross-attention/);
  tf.dispose([x, text, out]);
  model.dispose();
});
