import { disposeGradients, selectBackend, tensorToTorchHost, tf, valueAndGrads, type HostTensor, type TensorDict } from '@srdiff/core';
import { IRSDE, matchingLossCoefficients } from '@srdiff/sde';
import { ConditionalUNet, OnnxUnetTrainer, resolveUnetConfig, type UNetOptions } from '../src';
import { referenceMeta, referenceTensors, relError } from './helpers';

/** NCHW host tensor → NHWC host tensor. */
function toNhwc(t: HostTensor): HostTensor {
  const [n, c, h, w] = t.shape as [number, number, number, number];
  const out = new Float32Array(t.data.length);
  for (let b = 0; b < n; b++) for (let ch = 0; ch < c; ch++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[((b * h + y) * w + x) * c + ch] = t.data[((b * c + ch) * h + y) * w + x]!;
  return { shape: [n, h, w, c], data: out };
}

const host = async (t: tf.Tensor): Promise<HostTensor> => ({ shape: [...t.shape], data: (await t.data()) as Float32Array });

/** The tfjs engine's loss and gradients (PyTorch layouts) for the same weights and batch. */
function tfjsStep(model: ConditionalUNet, sde: IRSDE, batch: { state: tf.Tensor4D; lq: tf.Tensor4D; gt: tf.Tensor4D; context?: tf.Tensor2D }, timesteps: number[], loss: { type: 'l1' | 'l2'; weight: number }) {
  const { value, grads } = valueAndGrads(model, () => {
    const noise = model.forward(batch.state, batch.lq, timesteps, { imageContext: batch.context });
    const { expectation, optimum } = sde.matchingPair(noise, batch.state, batch.gt, batch.lq, timesteps);
    const per = loss.type === 'l1' ? tf.abs(tf.sub(expectation, optimum)) : tf.squaredDifference(expectation, optimum);
    return tf.mul(tf.mean(per), loss.weight) as tf.Scalar;
  });
  const layouts = new Map(model.namedParameters().map(([k, p]) => [k, p.layout]));
  const torchGrads: TensorDict = {};
  for (const [k, g] of Object.entries(grads)) torchGrads[k] = tensorToTorchHost(g, layouts.get(k)!);
  const result = { loss: value.dataSync()[0]!, grads: torchGrads };
  value.dispose();
  disposeGradients(grads);
  return result;
}

/** The ORT step's inputs for a batch, made the way the trainer makes them (tfjs IR-SDE on the host). */
async function ortBatch(sde: IRSDE, batch: { state: tf.Tensor4D; lq: tf.Tensor4D; gt: tf.Tensor4D; context?: tf.Tensor2D }, timesteps: number[]) {
  const optimum = sde.reverseOptimumStep(batch.state, batch.gt, batch.lq, timesteps);
  const out = {
    state: await host(batch.state), lq: await host(batch.lq), optimum: await host(optimum),
    time: Float32Array.from(timesteps.map((t) => sde.networkTime(t))),
    imageContext: batch.context ? await host(batch.context) : undefined,
    coefficients: matchingLossCoefficients(sde, timesteps),
  };
  optimum.dispose();
  return out;
}

describe('the UNet training step on ONNX Runtime', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  test('loss and every parameter gradient match the original PyTorch step (reference train_step / grads)', async () => {
    const meta = referenceMeta() as ReturnType<typeof referenceMeta> & { train_step: { sde: { max_sigma: number; T: number; schedule: 'cosine'; eps: number }; loss: number }; tolerances: Record<string, { value: number }> };
    const weights = await referenceTensors('weights.safetensors');
    const ref = await referenceTensors('train_step.safetensors');
    const refGrads = await referenceTensors('grads.safetensors');
    const { sde: s } = meta.train_step;
    const sde = new IRSDE({ maxSigma: s.max_sigma, T: s.T, schedule: s.schedule, eps: s.eps });
    const timesteps = Array.from(ref.timesteps!.data);
    const [b, , h, w] = ref.GT!.shape as [number, number, number, number];
    const trainer = await OnnxUnetTrainer.create(weights, meta.constructor as UNetOptions, { batch: b, height: h, width: w });
    try {
      const nhwc = (k: string) => tf.tensor4d(toNhwc(ref[k]!).data, [b, h, w, 3]);
      const batch = { state: nhwc('state'), lq: nhwc('LQ'), gt: nhwc('GT'), context: tf.tensor2d(ref.image_context!.data, ref.image_context!.shape as [number, number]) };
      const inputs = await ortBatch(sde, batch, timesteps);
      expect(relError(inputs.optimum.data, toNhwc(ref.xt_1_optimum!).data)).toBeLessThan(meta.tolerances['train_step.safetensors:xt_1_optimum']!.value);
      expect(Array.from(inputs.time)).toEqual(Array.from(ref.t_network!.data));
      const loss = await trainer.gradients(inputs);
      const lossTol = meta.tolerances['train_step.safetensors:loss']!.value;
      expect(Math.abs(loss - meta.train_step.loss) / meta.train_step.loss).toBeLessThan(lossTol);
      const gradTol = meta.tolerances['grads.safetensors:*']!.value;
      const errors = Object.keys(refGrads).map((k) => [k, relError(trainer.grads.view(k), refGrads[k]!.data)] as const);
      const worst = errors.reduce((a, e) => (e[1] > a[1] ? e : a));
      expect(errors.filter(([, e]) => !(e <= gradTol))).toEqual([]);
      expect(worst[1]).toBeLessThan(gradTol);
      expect(Object.keys(refGrads).sort()).toEqual([...trainer.params.names].sort());
      // attn2's query path provably does not matter with one context token: left out of the graph, zero gradient.
      expect([...trainer.graph.unusedParameters].sort()).toEqual(trainer.params.names.filter((k) => /attn2\.to_[qk]\.weight$|norm2\.(weight|bias)$/.test(k)).sort());
      for (const k of trainer.graph.unusedParameters) expect(refGrads[k]!.data.every((v) => v === 0)).toBe(true);
      tf.dispose(Object.values(batch));
    } finally {
      await trainer.dispose();
    }
  });

  const cases: Array<{ name: string; config: UNetOptions; size: [number, number, number]; loss: { type: 'l1' | 'l2'; weight: number } }> = [
    {
      name: 'image context, 3 × 20×24 (not a multiple of 16)',
      config: { in_nc: 3, out_nc: 3, nf: 8, ch_mult: [1, 2, 4, 8], context_dim: 16, use_degra_context: false, use_image_context: true },
      size: [3, 20, 24], loss: { type: 'l1', weight: 1 },
    },
    {
      name: 'no image context (LinearAttention only), 2 × 18×20, L2 loss weighted 0.5',
      config: { in_nc: 3, out_nc: 3, nf: 8, ch_mult: [1, 2, 2], context_dim: null, use_degra_context: false, use_image_context: false },
      size: [2, 18, 20], loss: { type: 'l2', weight: 0.5 },
    },
  ];
  test.each(cases.map((c) => [c.name, c] as const))('equals the tfjs engine: %s', async (_name, c) => {
    const config = resolveUnetConfig(c.config);
    const model = new ConditionalUNet(config);
    // Perturb every weight (zero-initialised proj_out would hide the transformers' gradients).
    tf.tidy(() => {
      for (const [, p] of model.namedParameters()) p.variable.assign(tf.add(p.variable, tf.randomNormal(p.variable.shape, 0, 0.05, 'float32', 7)));
    });
    const sde = new IRSDE({ maxSigma: 10, T: 100, schedule: 'cosine', eps: 0.005 });
    const [b, h, w] = c.size;
    const gt = tf.randomUniform([b, h, w, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const lq = tf.tidy(() => tf.clipByValue(tf.add(tf.mul(gt, 0.6), 0.25), 0, 1)) as tf.Tensor4D;
    const timesteps = Array.from({ length: b }, (_, i) => 5 + 37 * i);
    const state = sde.forwardState(gt, lq, timesteps, tf.randomNormal([b, h, w, 3], 0, 1, 'float32', 2) as tf.Tensor4D);
    const context = config.use_image_context ? (tf.randomNormal([b, config.context_dim!], 0, 1, 'float32', 3) as tf.Tensor2D) : undefined;
    const batch = { state, lq, gt, context };
    const expected = tfjsStep(model, sde, batch, timesteps, c.loss);
    const trainer = await OnnxUnetTrainer.create(model.stateDict(), config, { batch: b, height: h, width: w, loss: c.loss });
    try {
      const loss = await trainer.gradients(await ortBatch(sde, batch, timesteps));
      expect(Math.abs(loss - expected.loss) / expected.loss).toBeLessThan(1e-4);
      const errors = Object.keys(expected.grads).map((k) => [k, relError(trainer.grads.view(k), expected.grads[k]!.data)] as const);
      expect(errors.filter(([, e]) => !(e <= 2e-4))).toEqual([]);
    } finally {
      await trainer.dispose();
      tf.dispose([gt, lq, state, context].filter(Boolean) as tf.Tensor[]);
      model.dispose();
    }
  });
});
