import { AdamW, ArenaSpace, clipGradNorm, clipGradNormInPlace, Ema, HostAdamW, HostEma, Linear, Module, ParameterArena, Rng, selectBackend, tensorToTorchHost, tf, type TensorDict } from '../src';

/**
 * The host-memory optimizer pieces of the ONNX Runtime engine against core's tfjs AdamW and EMA:
 * the same float32 operation sequence, so the same weights step for step (bit for bit between the
 * wasm SIMD kernel and the JavaScript loop).
 */

class Tiny extends Module {
  readonly a = this.addModule('a', new Linear(7, 5));
  readonly b = this.addModule('b', new Linear(5, 3, { bias: false }));
}

const rng = new Rng(11);
const randomLike = (dict: TensorDict, scale: number): TensorDict =>
  Object.fromEntries(Object.entries(dict).map(([k, t]) => [k, { shape: [...t.shape], data: rng.normalArray(t.data.length).map((v) => v * scale) }]));

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('HostAdamW', () => {
  test('steps exactly like the tfjs AdamW (decoupled decay, bias corrections; bit for bit) over 5 steps with changing lr', () => {
    const model = new Tiny();
    const weights = model.stateDict();
    const tfjsOpt = new AdamW(model.namedParameters(), { lr: 1e-2, betas: [0.9, 0.99], eps: 1e-6, weightDecay: 0.05 });
    const params = ArenaSpace.fromTensorDict(weights, 4);
    const host = new HostAdamW(params, { lr: 1e-2, betas: [0.9, 0.99], eps: 1e-6, weightDecay: 0.05 });
    const layouts = new Map(model.namedParameters().map(([k, p]) => [k, p.layout]));
    for (let k = 0; k < 5; k++) {
      const grads = randomLike(weights, 0.1);
      const lr = 1e-2 * (1 - k / 10);
      const tfGrads = Object.fromEntries(model.namedParameters().map(([name, p]) => [name, tf.tidy(() => {
        const t = tf.tensor(grads[name]!.data, grads[name]!.shape);
        return p.layout === 'torch' ? t : tf.transpose(t);
      })]));
      tfjsOpt.update(tfGrads, lr);
      tf.dispose(Object.values(tfGrads));
      const g = params.zerosLike();
      g.load(grads);
      host.update(g, lr);
    }
    let worst = 0;
    for (const [name, p] of model.namedParameters()) {
      const ours = params.view(name);
      const theirs = tensorToTorchHost(p.variable, layouts.get(name)!).data;
      for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i]! - theirs[i]!) / Math.max(1e-6, Math.abs(theirs[i]!)));
    }
    expect(worst).toBe(0);
    expect(host.step).toBe(5);
    // The state round-trips through the tfjs optimizer's format.
    const state = host.getState();
    expect(state.step).toBe(5);
    expect(Object.keys(state.expAvg)).toEqual(params.names);
    tfjsOpt.setState(state);
    expect(tfjsOpt.step).toBe(5);
    tfjsOpt.dispose();
    model.dispose();
  });

  test('the wasm SIMD kernel and the JavaScript loop give identical bits; outside an ArenaSpace the loop runs', () => {
    const weights: TensorDict = { w: { shape: [1003], data: rng.normalArray(1003) }, b: { shape: [5], data: rng.normalArray(5) } };
    const fast = ArenaSpace.fromTensorDict(weights, 4);
    const slow = ParameterArena.fromTensorDict(weights);
    expect((fast.space as ArenaSpace).accelerated).toBe(true);
    expect(slow.space).toBeUndefined();
    const a = new HostAdamW(fast, { lr: 3e-3, weightDecay: 0.1 });
    const b = new HostAdamW(slow, { lr: 3e-3, weightDecay: 0 });
    const c = new HostAdamW(ParameterArena.fromTensorDict(weights), { lr: 3e-3, weightDecay: 0.1 });
    const ga = fast.zerosLike();
    // 1008 values, not a multiple of 4 lanes: the kernel's scalar tail runs too.
    expect(ga.size).toBe(1008);
    for (let k = 0; k < 4; k++) {
      const g = rng.normalArray(1008);
      ga.data.set(g);
      const gc = slow.zerosLike();
      gc.data.set(g);
      a.update(ga, 3e-3);
      c.update(gc, 3e-3);
      b.update(gc, 3e-3);
    }
    expect(Array.from(fast.data)).toEqual(Array.from(c.params.data));
    expect(Array.from(a.expAvgSq.data)).toEqual(Array.from(c.expAvgSq.data));
    // Without decay the weights differ from the decayed run.
    expect(Array.from(slow.data)).not.toEqual(Array.from(fast.data));
  });
});

test('HostEma copies during warm-up and then averages exactly as the tfjs Ema', () => {
  const model = new Tiny();
  const params = ParameterArena.fromTensorDict(model.stateDict());
  const options = { beta: 0.9, updateEvery: 2, updateAfterStep: 3 };
  const ema = new Ema(model, options);
  const host = new HostEma(params, options);
  for (let k = 0; k < 12; k++) {
    const next = randomLike(model.stateDict(), 1);
    model.loadStateDict(next);
    params.load(next);
    ema.update();
    host.update();
    expect(host.step).toBe(ema.step);
    expect(host.currentDecay()).toBe(ema.currentDecay());
    const theirs = ema.stateDict();
    for (const name of params.names) expect(Array.from(host.stateDict()[name]!.data)).toEqual(Array.from(theirs[name]!.data));
  }
  ema.dispose();
  model.dispose();
});

test('clipGradNormInPlace scales like clip_grad_norm_ (and like core clipGradNorm)', () => {
  const grads = ParameterArena.fromTensorDict({ x: { shape: [3], data: Float32Array.of(3, 0, 0) }, y: { shape: [1], data: Float32Array.of(4) } });
  const tfGrads = { x: tf.tensor1d([3, 0, 0]), y: tf.tensor1d([4]) };
  const ours = clipGradNormInPlace(grads, 1);
  const theirs = clipGradNorm(tfGrads, 1);
  expect(ours.totalNorm).toBeCloseTo(5, 12);
  expect(ours.scale).toBeCloseTo(theirs.scale, 12);
  expect(Array.from(grads.view('x'))).toEqual(Array.from(theirs.grads.x!.dataSync()));
  expect(clipGradNormInPlace(grads, 10).scale).toBe(1);
  expect(() => clipGradNormInPlace(grads, 0)).toThrow(/maxNorm must be > 0/);
  tf.dispose([...Object.values(theirs.grads)]);
});

test('ParameterArena: views share the buffer, load checks names and shapes, an ArenaSpace has fixed capacity', () => {
  const arena = ParameterArena.fromTensorDict({ a: { shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) }, b: { shape: [1], data: Float32Array.of(5) } });
  arena.view('a')[0] = 9;
  expect(arena.toTensorDict().a!.data[0]).toBe(9);
  expect(() => arena.load({ a: { shape: [4], data: new Float32Array(4) }, b: { shape: [1], data: new Float32Array(1) } })).toThrow(/"a" has shape \[4\], expected \[2, 2\]/);
  expect(() => arena.load({ a: { shape: [2, 2], data: new Float32Array(4) } })).toThrow(/no tensor "b"/);
  const space = ArenaSpace.create(arena.slots, 2);
  space.allocate();
  const second = space.allocate();
  expect(second.zerosLike().space).toBeUndefined(); // full: plain memory
  expect(() => space.allocate()).toThrow(/all 2 arenas are taken/);
});
