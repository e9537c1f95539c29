import { AdamW, disposeGradients, manualSeed, selectBackend, tf, valueAndGrads } from '@srdiff/core';
import { IRSDE } from '@srdiff/sde';
import { ConditionalUNet } from '../src';
import { image, referenceMeta, relError } from './helpers';

const refConfig = referenceMeta().constructor as never as ConstructorParameters<typeof ConditionalUNet>[0];
const sde = new IRSDE({ maxSigma: 10, T: 100, schedule: 'cosine', eps: 0.005 });

/** One IR-SDE training step as the original's optimize_parameters: matching loss, backward, AdamW. */
function trainStep(model: ConditionalUNet, optimizer: AdamW, batch: { gt: tf.Tensor4D; lq: tf.Tensor4D; context?: tf.Tensor; text?: tf.Tensor }, timesteps: number[], seed: number): number {
  const noise = tf.randomNormal(batch.gt.shape, 0, 1, 'float32', seed) as tf.Tensor4D;
  const state = sde.forwardState(batch.gt, batch.lq, timesteps, noise);
  const { value, grads } = valueAndGrads(model, () =>
    sde.matchingLoss(model.forward(state, batch.lq, timesteps, { imageContext: batch.context, textContext: batch.text }), state, batch.gt, batch.lq, timesteps),
  );
  optimizer.update(grads);
  const loss = value.dataSync()[0]!;
  tf.dispose([noise, state, value]);
  disposeGradients(grads);
  return loss;
}

describe('training', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  test('forward and training loops keep tf.memory().numTensors flat', () => {
    manualSeed(5);
    const model = new ConditionalUNet(refConfig);
    const optimizer = new AdamW(model.namedParameters(), { lr: 1e-3 });
    const batch = { gt: image([2, 16, 16, 3], 1), lq: image([2, 16, 16, 3], 2), context: tf.randomNormal([2, 16], 0, 1, 'float32', 3) };
    const counts: number[] = [];
    for (let i = 0; i < 12; i++) {
      tf.tidy(() => {
        model.forward(batch.gt, batch.lq, i + 0.5, { imageContext: batch.context });
      });
      counts.push(tf.memory().numTensors);
    }
    const losses: number[] = [];
    for (let i = 0; i < 4; i++) {
      losses.push(trainStep(model, optimizer, batch, [10 + i, 60 - i], i));
      counts.push(tf.memory().numTensors);
    }
    expect(new Set(counts.slice(0, 12)).size).toBe(1);
    expect(new Set(counts.slice(13)).size).toBe(1); // the first step creates the optimizer's moments
    expect(losses.every(Number.isFinite)).toBe(true);
    tf.dispose(Object.values(batch));
    optimizer.dispose();
    model.dispose();
  });

  test('every parameter gets a gradient, the prompt path included', () => {
    manualSeed(6);
    const model = new ConditionalUNet({ ...refConfig, use_degra_context: true });
    // Zero-initialised proj_out would block the gradients of everything inside the transformers.
    tf.tidy(() => {
      for (const [, p] of model.namedParameters()) p.variable.assign(tf.add(p.variable, tf.randomNormal(p.variable.shape, 0, 0.05, 'float32', 12)));
    });
    const gt = image([2, 16, 16, 3], 1);
    const lq = image([2, 16, 16, 3], 2);
    const context = tf.randomNormal([2, 16], 0, 1, 'float32', 3);
    const text = tf.randomNormal([2, 16], 0, 1, 'float32', 4);
    const state = sde.forwardState(gt, lq, [5, 80], tf.randomNormal([2, 16, 16, 3], 0, 1, 'float32', 5) as tf.Tensor4D);
    const { value, grads } = valueAndGrads(model, () => sde.matchingLoss(model.forward(state, lq, [5, 80], { imageContext: context, textContext: text }), state, gt, lq, [5, 80]));
    const names = model.namedParameters().map(([k]) => k);
    expect(Object.keys(grads).sort()).toEqual([...names].sort());
    // With one context token the cross-attention's softmax is exactly 1, so attn2's query path
    // (to_q, to_k and norm2, which feeds only the query) gets zero gradient, in the original too
    // (reference grads.safetensors). Everything else must move.
    const zero = names.filter((k) => tf.tidy(() => tf.max(tf.abs(grads[k]!)).dataSync()[0]!) === 0);
    expect(zero.filter((k) => !/(attn2\.to_[qk]|norm2)\.weight$|norm2\.bias$/.test(k))).toEqual([]);
    for (const k of ['prompt', 'text_mlp.0.weight', 'prompt_mlp.bias', 'init_conv.weight', 'final_conv.bias']) expect(zero).not.toContain(k);
    value.dispose();
    disposeGradients(grads);
    tf.dispose([gt, lq, context, text, state]);
    model.dispose();
  });

  test('the prompt gradient matches a finite difference', () => {
    manualSeed(7);
    const model = new ConditionalUNet({ ...refConfig, use_degra_context: true, use_image_context: false });
    const xt = image([1, 16, 16, 3], 6);
    const text = tf.randomNormal([1, 16], 0, 1, 'float32', 7);
    const probe = tf.randomNormal([1, 16, 16, 3], 0, 1, 'float32', 8);
    const loss = () => tf.sum(tf.mul(model.forward(xt, xt, 9, { textContext: text }), probe)) as tf.Scalar;
    const { value, grads } = valueAndGrads(model, loss);
    const analytic = grads.prompt!.dataSync()[3]!;
    const eps = 1e-2;
    const at = (delta: number) => {
      tf.tidy(() => model.prompt!.assign(tf.add(model.prompt!, tf.mul(tf.cast(tf.oneHot([3], 32), 'float32'), delta))));
      return tf.tidy(() => loss().dataSync()[0]!);
    };
    const up = at(eps);
    const down = at(-2 * eps);
    at(eps);
    expect(Math.abs((up - down) / (2 * eps) - analytic)).toBeLessThan(2e-3 * Math.max(1, Math.abs(analytic)));
    value.dispose();
    disposeGradients(grads);
    tf.dispose([xt, text, probe]);
    model.dispose();
  });
});

describe('cpu backend', () => {
  afterAll(async () => {
    await selectBackend('wasm');
  });

  test('output and every gradient agree with wasm (batch 2, two levels: strided conv, upsampling, skips)', async () => {
    const gradients = async (backend: 'cpu' | 'wasm') => {
      await selectBackend(backend);
      manualSeed(9);
      const model = new ConditionalUNet({ in_nc: 3, out_nc: 3, nf: 8, ch_mult: [1, 2], context_dim: 16, use_degra_context: true, use_image_context: false });
      const x = tf.sin(tf.reshape(tf.range(0, 2 * 16 * 16 * 3), [2, 16, 16, 3])) as tf.Tensor4D;
      const probe = tf.cos(tf.reshape(tf.range(0, 2 * 16 * 16 * 3), [2, 16, 16, 3]));
      const text = tf.sin(tf.reshape(tf.range(0, 32), [2, 16]));
      const { value, grads } = valueAndGrads(model, () => tf.sum(tf.mul(model.forward(x, tf.mul(x, 0.5) as tf.Tensor4D, [3, 40], { textContext: text }), probe)) as tf.Scalar);
      const out = Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, g.dataSync().slice()]));
      out.output = tf.tidy(() => model.forward(x, tf.mul(x, 0.5) as tf.Tensor4D, [3, 40], { textContext: text }).dataSync().slice());
      tf.dispose([x, probe, text, value]);
      disposeGradients(grads);
      model.dispose();
      return out;
    };
    const cpu = await gradients('cpu');
    const wasm = await gradients('wasm');
    const worst = Object.keys(wasm).map((k) => [k, relError(cpu[k]!, wasm[k]!)] as const).sort((a, b) => b[1] - a[1])[0]!;
    expect(worst[1]).toBeLessThan(1e-4);
  });
});
