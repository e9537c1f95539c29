import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { selectBackend, tf } from '@srdiff/core';
import { IRSDE, InjectedNoise, toyDenoiser, verifySdeReference, type SamplerMethod, type Schedule } from '../src';
import { SDE_DIR, loadTensors, nchwValues, nhwc, relError } from './helpers';

// Parity with the original PyTorch IRSDE (the reference set's sde/, copied to test/fixtures/sde).
const meta = JSON.parse(fs.readFileSync(path.join(SDE_DIR, 'meta.json'), 'utf8'));
const tolerance = (key: string): number => meta.tolerances[key].value;

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('verifySdeReference on the public reference set', () => {
  test('every key passes within its stated tolerance (float32 tables, the default)', async () => {
    const rows = await verifySdeReference(SDE_DIR);
    // 6 configs × 5 tables + 5 timesteps × 14 functions + x_T + 3 trajectories.
    expect(rows).toHaveLength(30 + 70 + 4);
    expect(rows.filter((r) => !r.pass)).toEqual([]);
    expect(new Set(rows.map((r) => r.key))).toEqual(new Set(Object.keys(meta.tolerances)));
    // Emulating the float32 torch ops lands far inside the tolerances (measured: ≤ 2.1e-7).
    expect(Math.max(...rows.map((r) => r.error))).toBeLessThan(1e-6);
  });

  test('float64 tables pass too, differing by about the fp64 discrepancy the README states', async () => {
    const rows = await verifySdeReference(SDE_DIR, { tablePrecision: 'float64' });
    expect(rows.filter((r) => !r.pass)).toEqual([]);
    for (const r of rows) {
      const fp64 = meta.tolerances[r.key].fp64_discrepancy as number;
      expect(r.error).toBeLessThanOrEqual(Math.max(2 * fp64, 3e-7));
    }
  });

  describe('reads everything from meta.json (other reference sets use other configs)', () => {
    let dir: string;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'srdiff-sde-ref-'));
      for (const f of fs.readdirSync(SDE_DIR)) fs.copyFileSync(path.join(SDE_DIR, f), path.join(dir, f));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
    const editMeta = (edit: (m: any) => void) => {
      const m = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8'));
      edit(m);
      fs.writeFileSync(path.join(dir, 'meta.json'), JSON.stringify(m));
    };

    test('a config that does not match the stored tables fails exactly its rows', async () => {
      editMeta((m) => (m.tables.configs['linear.ms10'].max_sigma_arg = 20));
      const failed = (await verifySdeReference(dir)).filter((r) => !r.pass).map((r) => r.key);
      expect(failed.sort()).toEqual(['schedules.safetensors:linear.ms10.sigma_bars', 'schedules.safetensors:linear.ms10.sigmas']);
    });

    test('other toy-model coefficients change the trajectories', async () => {
      editMeta((m) => (m.trajectory.toy_noise_model_coefficients = { a: 0.2, b: 0.01 }));
      const failed = (await verifySdeReference(dir)).filter((r) => !r.pass).map((r) => r.key);
      expect(failed.sort()).toEqual(['trajectory.safetensors:ode_states', 'trajectory.safetensors:posterior_states', 'trajectory.safetensors:sde_states']);
    });

    test('a subset of timesteps and functions is honoured; a key without tolerance is a failure', async () => {
      editMeta((m) => {
        m.ops.ts = [50];
        m.ops.functions = m.ops.functions.filter((f: { name: string }) => f.name === 'mu_bar' || f.name === 'weights');
        for (const k of Object.keys(m.tolerances)) if (k.startsWith('ops.') && !k.startsWith('ops.safetensors:t50.')) delete m.tolerances[k];
        delete m.tolerances['ops.safetensors:t50.weights'];
      });
      const rows = await verifySdeReference(dir);
      const ops = rows.filter((r) => r.key.startsWith('ops.'));
      expect(ops.map((r) => [r.key, r.pass])).toEqual(expect.arrayContaining([
        ['ops.safetensors:t50.mu_bar', true],
        ['ops.safetensors:t50.weights', false],
      ]));
      expect(ops.find((r) => r.key === 'ops.safetensors:t50.weights')!.note).toMatch(/no tolerance/);
      // Tolerances listed but not computed are reported, not skipped.
      expect(ops.find((r) => r.key === 'ops.safetensors:t50.drift')).toMatchObject({ pass: false, note: expect.stringMatching(/not computed/) });
    });

    test('an unknown original function is a failing row that names it', async () => {
      editMeta((m) => m.ops.functions.push({ name: 'mystery_op', args: ['xt', 't'], scalar: false }));
      const row = (await verifySdeReference(dir)).find((r) => r.key === 'ops.safetensors:t1.mystery_op');
      expect(row).toMatchObject({ pass: false });
    });

    test('a case that cannot run is a failing row with the reason, not a crash', async () => {
      editMeta((m) => {
        m.tables.configs['constant.ms50'].schedule = 'sigmoid';
        m.trajectory.methods.reverse_sde.z = 'z_missing';
        m.trajectory.t_sequence = [...m.trajectory.t_sequence].reverse();
      });
      const before = tf.memory().numTensors;
      const rows = await verifySdeReference(dir);
      expect(tf.memory().numTensors).toBe(before);
      const failed = Object.fromEntries(rows.filter((r) => !r.pass).map((r) => [r.key, r.note]));
      expect(Object.keys(failed)).toHaveLength(5 + 3);
      expect(failed['schedules.safetensors:constant.ms50.dt']).toMatch(/unknown schedule "sigmoid"/);
      expect(failed['trajectory.safetensors:sde_states']).toMatch(/missing tensor "z_missing"/);
      expect(failed['trajectory.safetensors:ode_states']).toMatch(/stepped t = 10,9,.*but meta's t_sequence is 1,2,/);
    });

    test('a missing file or key is a clear error', async () => {
      fs.rmSync(path.join(dir, 'ops.safetensors'));
      await expect(verifySdeReference(dir)).rejects.toThrow(/ops\.safetensors/);
      await expect(verifySdeReference(path.join(dir, 'nope'))).rejects.toThrow(/meta\.json.*cannot read/);
      editMeta((m) => delete m.trajectory);
      await expect(verifySdeReference(dir)).rejects.toThrow(/missing "trajectory\.config"/);
    });
  });
});

describe('explicit per-key parity', () => {
  const schedules: Schedule[] = ['cosine', 'linear', 'constant'];
  test.each(schedules.flatMap((s) => [10, 50].map((ms) => [s, ms] as const)))('tables %s, max_sigma %d', async (schedule, ms) => {
    const ref = await loadTensors('sde/schedules.safetensors');
    const cfg = meta.tables.configs[`${schedule}.ms${ms}`];
    const sde = new IRSDE({ maxSigma: ms, T: cfg.T, schedule, eps: cfg.eps });
    expect(sde.maxSigma).toBeCloseTo(cfg.max_sigma, 15);
    expect(sde.sampleScale).toBe(cfg.sample_scale);
    const ours: Record<string, ArrayLike<number>> = {
      thetas: sde.thetas, sigmas: sde.sigmas, thetas_cumsum: sde.thetasCumsum, sigma_bars: sde.sigmaBars, dt: [sde.dt],
    };
    for (const [name, values] of Object.entries(ours)) {
      const key = `${schedule}.ms${ms}.${name}`;
      expect(relError(values, ref[key]!.data)).toBeLessThanOrEqual(tolerance(`schedules.safetensors:${key}`));
    }
    expect(sde.dt).toBe(Math.fround(cfg.dt)); // dt is reproduced bit for bit
  });

  test('closed forms at every listed t, with t as a number and as per-batch timesteps', async () => {
    const ref = await loadTensors('sde/ops.safetensors');
    const sde = new IRSDE({ maxSigma: 10, T: 100, schedule: 'cosine', eps: 0.005 });
    const [mu, x0, xt, noise, score] = ['mu', 'x0', 'xt', 'noise', 'score'].map((k) => nhwc(ref[k]!)) as tf.Tensor4D[];
    const ops = (t: number | number[]) => ({
      mu_bar: sde.muBar(x0!, mu!, t),
      drift: sde.drift(xt!, mu!, t),
      sde_reverse_drift: sde.sdeReverseDrift(xt!, score!, mu!, t),
      ode_reverse_drift: sde.odeReverseDrift(xt!, score!, mu!, t),
      reverse_sde_step_mean: sde.reverseSdeStepMean(xt!, score!, mu!, t),
      reverse_ode_step: sde.reverseOdeStep(xt!, score!, mu!, t),
      get_score_from_noise: sde.scoreFromNoise(noise!, t),
      get_init_state_from_noise: sde.initStateFromNoise(xt!, noise!, mu!, t),
      reverse_optimum_step: sde.reverseOptimumStep(xt!, x0!, mu!, t),
      get_real_noise: sde.realNoise(xt!, x0!, mu!, t),
      get_real_score: sde.realScore(xt!, x0!, mu!, t),
    });
    for (const t of meta.ops.ts as number[]) {
      const scalar = ops(t);
      const batched = ops([t]); // gathered as [1,1,1,1]
      for (const [name, value] of Object.entries(scalar)) {
        const key = `t${t}.${name}`;
        expect([key, relError(nchwValues(value), ref[key]!.data) <= tolerance(`ops.safetensors:${key}`)]).toEqual([key, true]);
        expect(nchwValues(batched[name as keyof typeof batched])).toEqual(nchwValues(value));
      }
      tf.dispose([...Object.values(scalar), ...Object.values(batched)]);
      const scalars = { sigma_bar: sde.sigmaBar(t), reverse_optimum_std: sde.reverseOptimumStd(t), weights: sde.weight(t) };
      for (const [name, value] of Object.entries(scalars)) {
        expect(relError([value], ref[`t${t}.${name}`]!.data)).toBeLessThanOrEqual(tolerance(`ops.safetensors:t${t}.${name}`));
        expect(relError([value], [meta.ops.scalars[name][String(t)]])).toBeLessThanOrEqual(tolerance(`ops.safetensors:t${t}.${name}`));
      }
    }
    // At t = 1 the posterior variance is 0 and the original clamps it at 1e-20·dt.
    expect(relError([sde.reverseOptimumStd(1)], [Math.sqrt(1e-20 * sde.dt) * sde.maxSigma])).toBeLessThan(1e-6);
    tf.dispose([mu, x0, xt, noise, score]);
  });

  test.each(['posterior', 'sde', 'ode'] as SamplerMethod[])('whole %s trajectory with the toy denoiser and the recorded noise', async (method) => {
    const ref = await loadTensors('sde/trajectory.safetensors');
    const cfg = meta.trajectory.config;
    const sde = new IRSDE({ maxSigma: cfg.max_sigma, T: cfg.T, schedule: cfg.schedule, eps: cfg.eps });
    const mu = nhwc(ref.mu!);
    const split = (key: string) => {
      const h = ref[key]!;
      const size = h.data.length / h.shape[0]!;
      return Array.from({ length: h.shape[0]! }, (_, k) => nhwc({ shape: h.shape.slice(1), data: h.data.subarray(k * size, (k + 1) * size) }));
    };
    const draws = [nhwc(ref.noise_init!), ...(method === 'ode' ? [] : split(method === 'sde' ? 'z_sde' : 'z_posterior'))];
    const noise = new InjectedNoise(draws);
    const seenTimes: number[] = [];
    const toy = toyDenoiser(meta.trajectory.toy_noise_model_coefficients);
    const { x0, trajectory } = await sde.sample(async (x, m, t) => (seenTimes.push(t), toy(x, m, t)), mu, { method, noise, returnTrajectory: true });
    const key = `${method}_states`;
    expect(trajectory!.shape).toEqual([cfg.T + 1, 1, 4, 4, 3]);
    expect(relError(nchwValues(trajectory!), ref[key]!.data)).toBeLessThanOrEqual(tolerance(`trajectory.safetensors:${key}`));
    expect(relError(nchwValues(x0), ref[key]!.data.subarray(-48))).toBeLessThanOrEqual(tolerance(`trajectory.safetensors:${key}`));
    expect(relError(nchwValues(trajectory!).subarray(0, 48), ref.x_T!.data)).toBeLessThanOrEqual(tolerance('trajectory.safetensors:x_T'));
    expect(seenTimes).toEqual(meta.trajectory.t_sequence);
    expect(noise.remaining).toBe(0);
    tf.dispose([mu, x0, trajectory!, ...draws]);
  });
});

describe('the training loss of the original (unet/train_step, from the recorded network output)', () => {
  const stepMeta = JSON.parse(fs.readFileSync(path.join(SDE_DIR, '..', 'unet-train-step', 'meta.json'), 'utf8'));
  const tol = (key: string): number => stepMeta.tolerances[`train_step.safetensors:${key}`].value;

  test('state, score, both sides of the matching loss and the loss itself', async () => {
    const ref = await loadTensors('unet-train-step/train_step.safetensors');
    const sde = new IRSDE({ maxSigma: stepMeta.train_step.sde.max_sigma, T: stepMeta.train_step.sde.T, schedule: stepMeta.train_step.sde.schedule, eps: stepMeta.train_step.sde.eps });
    const [gt, lq, noise, noisePred, refState] = ['GT', 'LQ', 'noise', 'noise_pred', 'state'].map((k) => nhwc(ref[k]!)) as tf.Tensor4D[];
    const timesteps = tf.tensor4d(ref.timesteps!.data, [2, 1, 1, 1], 'int32'); // [B,1,1,1] like the original
    expect(Array.from(ref.timesteps!.data)).toEqual(stepMeta.train_step.timesteps);

    const state = sde.forwardState(gt!, lq!, timesteps, noise!);
    expect(relError(nchwValues(state), ref.state!.data)).toBeLessThanOrEqual(tol('state'));
    const score = sde.scoreFromNoise(noisePred!, timesteps);
    expect(relError(nchwValues(score), ref.score!.data)).toBeLessThanOrEqual(tol('score'));
    // From here on the recorded state, as the network saw it.
    const { expectation, optimum } = sde.matchingPair(noisePred!, refState!, gt!, lq!, [7, 88]);
    expect(relError(nchwValues(expectation), ref.xt_1_expectation!.data)).toBeLessThanOrEqual(tol('xt_1_expectation'));
    expect(relError(nchwValues(optimum), ref.xt_1_optimum!.data)).toBeLessThanOrEqual(tol('xt_1_optimum'));
    const loss = sde.matchingLoss(noisePred!, refState!, gt!, lq!, tf.tensor1d([7, 88], 'int32'));
    expect(relError([loss.dataSync()[0]!], [stepMeta.train_step.loss])).toBeLessThanOrEqual(tol('loss'));
    tf.dispose([gt!, lq!, noise!, noisePred!, refState!, timesteps, state, score, expectation, optimum, loss]);
  });
});
