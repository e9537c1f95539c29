import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  AdamW, CheckpointError, Ema, Linear, cosineAnnealingSchedule, multiStepSchedule, readCheckpoint, selectBackend, tf,
  valueAndGrads, writeCheckpoint, clipGradNorm,
} from '../src';

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('schedules', () => {
  test('cosine annealing runs from base to eta_min over T_max', () => {
    const s = cosineAnnealingSchedule({ baseLr: 2e-4, tMax: 100, etaMin: 3e-6 });
    expect(s(0)).toBeCloseTo(2e-4, 12);
    expect(s(50)).toBeCloseTo((2e-4 + 3e-6) / 2, 12);
    expect(s(100)).toBeCloseTo(3e-6, 12);
  });
  test('multi-step multiplies by gamma at each milestone', () => {
    const s = multiStepSchedule({ baseLr: 1, milestones: [10, 5], gamma: 0.5 });
    expect([s(0), s(5), s(9), s(10)]).toEqual([1, 0.5, 0.5, 0.25]);
  });
});

describe('Ema (ema_pytorch semantics)', () => {
  /** Simulates ema_pytorch.EMA.update on a scalar parameter sequence. */
  function simulate(values: number[], beta: number, every: number, after: number): number {
    let step = 0;
    let initted = false;
    let ema = values[0]!;
    for (const p of values) {
      const s = step++;
      if (s % every !== 0) continue;
      if (s <= after) { ema = p; continue; }
      if (!initted) { ema = p; initted = true; }
      const epoch = Math.max(0, step - after - 1); // `step` already incremented, as in ema_pytorch
      const decay = epoch <= 0 ? 0 : Math.min(beta, Math.max(0, 1 - (1 + epoch) ** (-2 / 3)));
      ema = ema + (p - ema) * (1 - decay);
    }
    return ema;
  }

  test('copies during warm-up, then averages with the warm-up decay capped at beta', () => {
    const lin = new Linear(1, 1, { bias: false });
    const ema = new Ema(lin, { beta: 0.995, updateEvery: 10, updateAfterStep: 100 });
    const values: number[] = [];
    for (let k = 0; k < 400; k++) {
      const v = Math.sin(k / 7) + k / 100;
      values.push(v);
      lin.weight.assign(tf.tensor2d([[v]]));
      ema.update();
    }
    const got = ema.stateDict()['weight']!.data[0]!;
    expect(got).toBeCloseTo(simulate(values, 0.995, 10, 100), 5);
    expect(got).not.toBeCloseTo(values[values.length - 1]!, 2);
    const state = ema.getState();
    const lin2 = new Linear(1, 1, { bias: false });
    const ema2 = new Ema(lin2);
    ema2.setState(state);
    expect(ema2.step).toBe(400);
    ema2.copyTo(lin2);
    expect(lin2.weight.dataSync()[0]).toBeCloseTo(got, 6);
    [ema, ema2, lin, lin2].forEach((m) => m.dispose());
  });
});

describe('AdamW state and checkpoints', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'srdiff-ckpt-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const train = (lin: Linear, opt: AdamW, steps: number) => {
    const x = tf.tensor2d([[1, 2], [3, -1]]);
    for (let k = 0; k < steps; k++) {
      const { value, grads } = valueAndGrads(lin, () => tf.mean(tf.square(lin.forward(x))) as tf.Scalar);
      value.dispose();
      const c = clipGradNorm(grads, 1);
      opt.update(c.grads, 0.01);
      Object.values(c.grads).forEach((g) => g.dispose());
    }
    x.dispose();
  };

  test('resuming from a checkpoint continues exactly like an uninterrupted run', async () => {
    const a = new Linear(2, 3);
    const b = new Linear(2, 3);
    b.loadStateDict(a.stateDict());
    const optA = new AdamW(a.namedParameters(), { weightDecay: 0.1 });
    train(a, optA, 6);

    const optB = new AdamW(b.namedParameters(), { weightDecay: 0.1 });
    train(b, optB, 3);
    const file = path.join(dir, 'last.ckpt');
    await writeCheckpoint(file, { groups: { model: b.stateDict(), 'optimizer.exp_avg': optB.getState().expAvg, 'optimizer.exp_avg_sq': optB.getState().expAvgSq }, meta: { step: optB.step } });
    const ckpt = await readCheckpoint<{ step: number }>(file);
    const c = new Linear(2, 3);
    c.loadStateDict(ckpt.groups.model!);
    const optC = new AdamW(c.namedParameters(), { weightDecay: 0.1 });
    optC.setState({ step: ckpt.meta.step, options: optC.options, expAvg: ckpt.groups['optimizer.exp_avg']!, expAvgSq: ckpt.groups['optimizer.exp_avg_sq']! });
    train(c, optC, 3);
    expect(Array.from(c.stateDict()['weight']!.data)).toEqual(Array.from(a.stateDict()['weight']!.data));
    [a, b, c, optA, optB, optC].forEach((m) => m.dispose());
  });

  test('a damaged or foreign checkpoint is reported, naming the file', async () => {
    const file = path.join(dir, 'x.ckpt');
    await writeCheckpoint(file, { groups: { model: { w: { shape: [4], data: Float32Array.from([1, 2, 3, 4]) } } }, meta: { a: 1 } });
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 2] ^= 0xff;
    fs.writeFileSync(file, bytes);
    await expect(readCheckpoint(file)).rejects.toThrow(new RegExp(`${file}: checksum mismatch`));
    fs.writeFileSync(file, bytes.subarray(0, bytes.length - 5));
    await expect(readCheckpoint(file)).rejects.toThrow(CheckpointError);
    await expect(readCheckpoint(path.join(dir, 'missing.ckpt'))).rejects.toThrow(/cannot read \(ENOENT\)/);
  });

  test('AdamW rejects gradients for unknown parameters and invalid options', () => {
    const a = new Linear(2, 2);
    const opt = new AdamW(a.namedParameters());
    expect(() => opt.update({ nope: tf.zeros([1]) })).toThrow(/unknown or frozen parameter "nope"/);
    expect(() => new AdamW(a.namedParameters(), { betas: [0.9, 1.5] })).toThrow(/invalid options/);
    a.dispose();
    opt.dispose();
  });
});

test('AdamW, Ema and MultiheadAttention hold no tensors beyond their state, and release it on dispose', async () => {
  const { MultiheadAttention } = await import('../src');
  const start = tf.memory().numTensors;
  const mha = new MultiheadAttention(8, 2);
  const params = mha.parameters().length;
  expect(tf.memory().numTensors - start).toBe(params);
  const opt = new AdamW(mha.namedParameters());
  const ema = new Ema(mha);
  expect(tf.memory().numTensors - start).toBe(params * 4); // weights + two moments + EMA shadow
  opt.dispose();
  ema.dispose();
  mha.dispose();
  expect(tf.memory().numTensors).toBe(start);
});
