/**
 * Data-parallel gradients: a batch split between this thread and a worker thread gives the same
 * loss and gradients as the whole batch on one thread. Needs the built worker script
 * (dist/gradient-worker.js; the trainer's test target builds first).
 */
import { disposeGradients, manualSeed, Rng, selectBackend, tf, type NamedGradients } from '@srdiff/core';
import { IRSDE } from '@srdiff/sde';
import { ConditionalUNet, type UNetConfig } from '@srdiff/unet';
import { matchingLossGradients, type DiffusionBatch } from '../src/training/diffusion-loss';
import { DataParallelGradients, resolveGradientThreads } from '../src/training/parallel/data-parallel';
import { disposeBatch, hostShards, shardSizes } from '../src/training/parallel/shared-tensors';

const UNET: UNetConfig = { in_nc: 3, out_nc: 3, nf: 8, ch_mult: [1, 2, 4, 8], context_dim: 16, use_degra_context: false, use_image_context: true };
const SDE = { maxSigma: 10, T: 20, schedule: 'cosine' as const, eps: 0.005 };
const LOSS = { type: 'l1' as const, weight: 1 };

function batchOf(size: number, seed: number, sde: IRSDE): DiffusionBatch {
  const gt = tf.randomUniform([size, 16, 16, 3], 0, 1, 'float32', seed) as tf.Tensor4D;
  const lq = tf.clipByValue(tf.add(tf.mul(gt, 0.5), 0.2), 0, 1) as tf.Tensor4D;
  const { timesteps, states } = sde.randomStates(gt, lq, new Rng(seed));
  return { gt, lq, states, timesteps, embedding: tf.randomNormal([size, 16], 0, 1, 'float32', seed + 1) as tf.Tensor2D };
}

/** max |a − b| / max |b| over every gradient. */
function worstRelError(got: NamedGradients, want: NamedGradients): number {
  let worst = 0;
  for (const [name, w] of Object.entries(want)) {
    const g = got[name];
    if (!g) throw new Error(`no gradient for ${name}`);
    const a = g.dataSync();
    const b = w.dataSync();
    let d = 0;
    let m = 0;
    for (let i = 0; i < b.length; i++) {
      d = Math.max(d, Math.abs(a[i]! - b[i]!));
      m = Math.max(m, Math.abs(b[i]!));
    }
    worst = Math.max(worst, m === 0 ? d : d / m);
  }
  return worst;
}

/** The data-parallel result equals the whole batch on one thread: loss rel < 1e-5, every gradient rel < 1e-4. */
function expectSameAsWhole(split: { loss: number; grads: NamedGradients }, whole: { loss: number; grads: NamedGradients }): void {
  expect(Math.abs(split.loss - whole.loss) / whole.loss).toBeLessThan(1e-5);
  expect(worstRelError(split.grads, whole.grads)).toBeLessThan(1e-4);
}

describe('DataParallelGradients', () => {
  let model: ConditionalUNet;
  let sde: IRSDE;
  let parallel: DataParallelGradients;

  beforeAll(async () => {
    await selectBackend('wasm');
    manualSeed(3);
    model = new ConditionalUNet(UNET);
    sde = new IRSDE(SDE);
    parallel = await DataParallelGradients.start(model, sde, { threads: 2, backend: 'wasm', unet: UNET, sde: SDE, loss: LOSS });
  }, 60_000);

  afterAll(async () => {
    await parallel.close();
    model.dispose();
  });

  test.each([2, 3])('batch %i over two threads equals the batch on one (loss, every gradient)', async (size) => {
    const batch = batchOf(size, 10 + size, sde);
    const whole = matchingLossGradients(model, sde, batch, LOSS);
    const split = await parallel.gradients(batch);
    expect(Object.keys(split.grads).sort()).toEqual(Object.keys(whole.grads).sort());
    expectSameAsWhole(split, whole);
    disposeGradients(whole.grads);
    disposeGradients(split.grads);
    disposeBatch(batch);
  }, 60_000);

  test('the worker uses the weights of the step: after an update both sides still agree', async () => {
    const batch = batchOf(2, 7, sde);
    const before = await parallel.gradients(batch);
    // Move every weight; a worker holding stale weights would now disagree with this thread.
    for (const v of Object.values(model.trainableVariables())) tf.tidy(() => v.assign(tf.add(v, tf.mul(tf.randomNormal(v.shape, 0, 1, 'float32', 5), 0.05))));
    const whole = matchingLossGradients(model, sde, batch, LOSS);
    const split = await parallel.gradients(batch);
    expectSameAsWhole(split, whole);
    expect(Math.abs(split.loss - before.loss)).toBeGreaterThan(1e-6);
    [before, whole, split].forEach((r) => disposeGradients(r.grads));
    disposeBatch(batch);
  }, 60_000);

  test('a failing shard rejects (it does not hang) and the pool keeps working', async () => {
    const bad = batchOf(2, 8, sde);
    const wrongContext = { ...bad, embedding: tf.zeros([2, 5]) as tf.Tensor2D };
    await expect(parallel.gradients(wrongContext)).rejects.toThrow(/context|16/);
    wrongContext.embedding.dispose();
    const ok = await parallel.gradients(bad);
    expect(Number.isFinite(ok.loss)).toBe(true);
    disposeGradients(ok.grads);
    disposeBatch(bad);
  }, 60_000);

  test('leaves no tensors behind', async () => {
    const batch = batchOf(2, 9, sde);
    const first = await parallel.gradients(batch);
    disposeGradients(first.grads);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) disposeGradients((await parallel.gradients(batch)).grads);
    expect(tf.memory().numTensors).toBe(before);
    disposeBatch(batch);
  }, 60_000);
});

test('a worker that cannot start fails the start with its reason and the way out', async () => {
  await selectBackend('wasm');
  const model = new ConditionalUNet(UNET);
  const sde = new IRSDE(SDE);
  // The native backend is not installed here, so the worker's selectBackend fails.
  const start = DataParallelGradients.start(model, sde, { threads: 2, backend: 'tensorflow', unet: UNET, sde: SDE, loss: LOSS });
  await expect(start).rejects.toThrow(/gradient worker 1: .*tensorflow.*train\.threads: 1/s);
  model.dispose();
}, 60_000);

describe('sharding and thread counts', () => {
  test('host shards: contiguous rows of every tensor and the matching timesteps, from the given start', () => {
    const values = (width: number) => Array.from({ length: 5 * width }, (_, i) => i);
    const image = (width: number) => tf.tensor4d(values(width), [5, 1, 1, width]);
    const batch = { lq: image(2), gt: image(1), states: image(3), timesteps: [10, 11, 12, 13, 14], embedding: tf.tensor2d(values(4), [5, 4]) };
    const [a, b] = hostShards(batch, 1, [3, 1]);
    expect(a!.lq.shape).toEqual([3, 1, 1, 2]);
    expect(Array.from(a!.lq.data)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(Array.from(b!.states.data)).toEqual([12, 13, 14]);
    expect(Array.from(b!.embedding!.data)).toEqual([16, 17, 18, 19]);
    expect(Array.from(a!.gt.data)).toEqual([1, 2, 3]);
    expect([a!.timesteps, b!.timesteps]).toEqual([[11, 12, 13], [14]]);
    disposeBatch(batch);
  });

  test('shards are contiguous, as even as possible, never empty', () => {
    expect(shardSizes(4, 2)).toEqual([2, 2]);
    expect(shardSizes(5, 2)).toEqual([3, 2]);
    expect(shardSizes(7, 3)).toEqual([3, 2, 2]);
    expect(shardSizes(1, 4)).toEqual([1]);
  });

  test('train.threads: auto is capped by the batch; native tensorflow uses one thread', () => {
    expect(resolveGradientThreads(3, 'wasm', 2)).toBe(2);
    expect(resolveGradientThreads(2, 'cpu', 8)).toBe(2);
    expect(resolveGradientThreads(0, 'wasm', 1)).toBe(1);
    expect(resolveGradientThreads(0, 'wasm', 64)).toBeGreaterThanOrEqual(1);
    expect(resolveGradientThreads(0, 'tensorflow', 8)).toBe(1);
    expect(() => resolveGradientThreads(2, 'tensorflow', 8)).toThrow(/tensorflow backend already uses every core/);
  });
});
