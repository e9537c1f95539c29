import path from 'node:path';
import { manualSeed, reflectPad, selectBackend, tf } from '@srdiff/core';
import { ConditionalUNet, UNetInputError } from '../src';
import { REFERENCE_DIR, image, maxAbsDiff, referenceMeta } from './helpers';

const meta = referenceMeta();
const refConfig = meta.constructor as never as ConstructorParameters<typeof ConditionalUNet>[0];
let model: ConditionalUNet;
const context = (batch: number, seed = 1) => tf.randomNormal([batch, 16], 0, 1, 'float32', seed);

beforeAll(async () => {
  await selectBackend('wasm');
  model = await ConditionalUNet.fromStateDict(path.join(REFERENCE_DIR, 'weights.safetensors'));
});
afterAll(() => model.dispose());

describe('forward', () => {
  test('any H×W (padded to a multiple of 16 and cropped back), any batch', () => {
    tf.tidy(() => {
      for (const [b, h, w] of [[1, 16, 16], [3, 17, 23], [2, 40, 9]] as const) {
        const x = image([b, h, w, 3], h);
        const out = model.forward(x, image([b, h, w, 3], w), 10, { imageContext: context(b) });
        expect(out.shape).toEqual([b, h, w, 3]);
        expect(Number.isFinite(tf.sum(out).dataSync()[0]!)).toBe(true);
      }
    });
  });

  test('cropping is exact: the output on H×W is the crop of the output on the reflect-padded input', () => {
    tf.tidy(() => {
      const xt = image([1, 21, 27, 3], 5);
      const cond = image([1, 21, 27, 3], 6);
      const ctx = context(1);
      const out = model.forward(xt, cond, 33.5, { imageContext: ctx });
      const padded = model.forward(reflectPad(xt, { bottom: 11, right: 5 }), reflectPad(cond, { bottom: 11, right: 5 }), 33.5, { imageContext: ctx });
      expect(padded.shape).toEqual([1, 32, 32, 3]);
      expect(maxAbsDiff(out, tf.slice(padded, [0, 0, 0, 0], [1, 21, 27, 3]))).toBeLessThan(1e-6);
    });
  });

  test('batch elements are independent (no mixing across the batch in any block)', () => {
    tf.tidy(() => {
      const xt = image([3, 20, 24, 3], 7);
      const cond = image([3, 20, 24, 3], 8);
      const ctx = context(3);
      const times = [3, 50.5, 99];
      const batched = model.forward(xt, cond, times, { imageContext: ctx });
      for (let i = 0; i < 3; i++) {
        const one = model.forward(tf.slice(xt, [i, 0, 0, 0], [1, -1, -1, -1]), tf.slice(cond, [i, 0, 0, 0], [1, -1, -1, -1]), times[i]!, {
          imageContext: tf.slice(ctx, [i, 0], [1, -1]),
        });
        expect(maxAbsDiff(one, tf.slice(batched, [i, 0, 0, 0], [1, -1, -1, -1]))).toBeLessThan(2e-6);
      }
    });
  });

  test('time: a number (float), one per element, or a tensor — same result', () => {
    tf.tidy(() => {
      const xt = image([2, 16, 16, 3], 9);
      const cond = image([2, 16, 16, 3], 10);
      const ctx = context(2);
      const a = model.forward(xt, cond, 12.25, { imageContext: ctx });
      const b = model.forward(xt, cond, [12.25, 12.25], { imageContext: ctx });
      const c = model.forward(xt, cond, tf.tensor1d([12.25, 12.25]), { imageContext: ctx });
      const d = model.forward(xt, cond, tf.tensor4d([12.25, 12.25], [2, 1, 1, 1]), { imageContext: ctx });
      expect(maxAbsDiff(a, b)).toBe(0);
      expect(maxAbsDiff(a, c)).toBe(0);
      expect(maxAbsDiff(a, d)).toBe(0);
      expect(maxAbsDiff(a, model.forward(xt, cond, 12.5, { imageContext: ctx }))).toBeGreaterThan(1e-5);
    });
  });

  test('several context tokens: two identical tokens give the one-token result', () => {
    tf.tidy(() => {
      const xt = image([2, 16, 16, 3], 11);
      const ctx = context(2);
      const one = model.forward(xt, xt, 5, { imageContext: ctx });
      const two = model.forward(xt, xt, 5, { imageContext: tf.stack([ctx, ctx], 1) });
      expect(maxAbsDiff(one, two)).toBeLessThan(1e-5);
      const other = model.forward(xt, xt, 5, { imageContext: tf.stack([ctx, tf.neg(ctx)], 1) });
      expect(maxAbsDiff(one, other)).toBeGreaterThan(1e-4);
    });
  });

  test('trace reports the original\'s module paths, NHWC', () => {
    const seen = new Map<string, number[]>();
    tf.tidy(() => {
      model.forward(image([1, 16, 16, 3], 1), image([1, 16, 16, 3], 2), 1, { imageContext: context(1), trace: (name, t) => seen.set(name, t.shape) });
    });
    expect(seen.get('init_conv.in')).toEqual([1, 16, 16, 6]);
    expect(seen.get('time_mlp.0.out')).toEqual([1, 8]);
    expect(seen.get('time_mlp.out')).toEqual([1, 32]);
    expect(seen.get('downs.0.3.out')).toEqual([1, 8, 8, 8]);
    expect(seen.get('mid_attn.out')).toEqual([1, 2, 2, 64]);
    expect(seen.get('ups.3.3.out')).toEqual([1, 16, 16, 8]);
    expect(seen.get('final_conv.out')).toEqual([1, 16, 16, 3]);
  });

  test('no tensors leak from a forward', () => {
    const xt = image([2, 20, 24, 3], 1);
    const ctx = context(2);
    const before = tf.memory().numTensors;
    model.forward(xt, xt, [1, 2], { imageContext: ctx }).dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([xt, ctx]);
  });
});

describe('bad input is rejected before any computation', () => {
  const x = () => image([2, 16, 16, 3], 3);

  function rejects(run: () => unknown, message: RegExp): void {
    const before = tf.memory().numTensors;
    expect(run).toThrow(UNetInputError);
    expect(run).toThrow(message);
    expect(tf.memory().numTensors).toBe(before);
  }

  test('missing image context: a clear message instead of the original\'s matmul crash', () => {
    tf.tidy(() => {
      const xt = x();
      rejects(() => model.forward(xt, xt, 1), /needs an imageContext \[2, 16\].*context_dim equals the width of every SpatialTransformer \(here 32, 64 vs context_dim 16\)/);
    });
  });

  test('context of the wrong width or batch', () => {
    tf.tidy(() => {
      const xt = x();
      const [wide, tooMany, ok] = [tf.zeros([2, 768]), tf.zeros([3, 16]), tf.zeros([2, 16])];
      rejects(() => model.forward(xt, xt, 1, { imageContext: wide }), /imageContext must be \[2, 16\].*its width 768 is not the network's context_dim 16/);
      rejects(() => model.forward(xt, xt, 1, { imageContext: tooMany }), /imageContext must be \[2, 16\]/);
      rejects(() => model.forward(xt, xt, 1, { imageContext: ok, textContext: ok }), /textContext was given but this network has no prompt path/);
    });
  });

  test('images: layout, channels, shapes, size, time', () => {
    tf.tidy(() => {
      const xt = x();
      const ctx = tf.zeros([2, 16]);
      const nchw = tf.zeros([2, 3, 16, 16]) as tf.Tensor4D;
      const narrower = image([2, 16, 17, 3], 1);
      const short = image([2, 8, 16, 3], 1);
      const ints = tf.zeros([2, 16, 16, 3], 'int32') as tf.Tensor4D;
      rejects(() => model.forward(nchw, xt, 1, { imageContext: ctx }), /xt must be NHWC \[batch, height, width, 3\], got \[2, 3, 16, 16\]/);
      rejects(() => model.forward(xt, narrower, 1, { imageContext: ctx }), /cond must have the shape of xt/);
      rejects(() => model.forward(short, short, 1, { imageContext: ctx }), /height 8 is too small: .*multiple of 16.*padding \(8\)/);
      rejects(() => model.forward(xt, xt, [1, 2, 3], { imageContext: ctx }), /got 3 time values for a batch of 2/);
      rejects(() => model.forward(xt, xt, Number.NaN, { imageContext: ctx }), /time must be a finite number/);
      rejects(() => model.forward(xt, ints, 1, { imageContext: ctx }), /cond must be float32/);
    });
  });
});

describe('configs the original cannot run, or runs only in part', () => {
  test('nf < 32 builds (the original raises ZeroDivisionError in an unused head-size line)', () => {
    const small = new ConditionalUNet({ in_nc: 3, out_nc: 3, nf: 4, ch_mult: [1, 2], context_dim: 8, use_degra_context: false, use_image_context: false });
    const out = tf.tidy(() => small.forward(image([1, 9, 13, 3], 1), image([1, 9, 13, 3], 2), 4).shape);
    expect(out).toEqual([1, 9, 13, 3]);
    small.dispose();
  });

  test('without a context, attn2 is self-attention where context_dim equals every transformer width (as in the original)', () => {
    manualSeed(1);
    const net = new ConditionalUNet({ in_nc: 3, out_nc: 3, nf: 32, ch_mult: [1, 1, 1, 1], context_dim: 32, use_degra_context: false, use_image_context: true });
    // proj_out starts at zero (the transformers only matter once trained): perturb every weight.
    tf.tidy(() => {
      for (const [, p] of net.namedParameters()) p.variable.assign(tf.add(p.variable, tf.randomNormal(p.variable.shape, 0, 0.05, 'float32', 11)));
    });
    tf.tidy(() => {
      const xt = image([1, 16, 16, 3], 4);
      const withSelf = net.forward(xt, xt, 7);
      const withContext = net.forward(xt, xt, 7, { imageContext: tf.ones([1, 32]) });
      expect(withSelf.shape).toEqual([1, 16, 16, 3]);
      expect(Number.isFinite(tf.sum(withSelf).dataSync()[0]!)).toBe(true);
      expect(maxAbsDiff(withSelf, withContext)).toBeGreaterThan(1e-5);
    });
    net.dispose();
  });

  test('prompt path (use_degra_context): the text context modulates the time embedding', () => {
    manualSeed(2);
    const net = new ConditionalUNet({ ...refConfig, use_degra_context: true, use_image_context: false });
    tf.tidy(() => {
      const xt = image([2, 16, 16, 3], 4);
      const seen: Record<string, tf.Tensor> = {};
      const trace = (name: string, t: tf.Tensor) => {
        if (name === 'time_mlp.out') seen[name] = tf.keep(tf.clone(t));
      };
      const plain = net.forward(xt, xt, 7, { trace });
      const plainTime = seen['time_mlp.out']!;
      const text = tf.randomNormal([2, 16], 0, 1, 'float32', 3);
      const prompted = net.forward(xt, xt, 7, { textContext: text, trace });
      const promptedTime = seen['time_mlp.out']!;
      expect(maxAbsDiff(plain, prompted)).toBeGreaterThan(1e-4);
      // t + prompt_mlp(softmax(text_mlp(text), dim=1)·prompt), recomputed here from the parameters.
      const td = 32;
      const w = (k: string) => net.stateDict()[k]!;
      const lin = (x: tf.Tensor, k: string) => tf.add(tf.matMul(x, tf.tensor2d(w(`${k}.weight`).data, w(`${k}.weight`).shape as [number, number]), false, true), tf.tensor1d(w(`${k}.bias`).data));
      const h = lin(tf.mul(lin(text, 'text_mlp.0'), tf.sigmoid(lin(text, 'text_mlp.0'))), 'text_mlp.2');
      const expected = tf.add(plainTime, lin(tf.mul(tf.softmax(h), tf.tensor2d(w('prompt').data, [1, td])), 'prompt_mlp'));
      expect(maxAbsDiff(promptedTime, expected)).toBeLessThan(1e-5);
      tf.dispose([plainTime, promptedTime]);
    });
    net.dispose();
  });
});
