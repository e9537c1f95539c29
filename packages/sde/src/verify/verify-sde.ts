import { findTolerance, tf, verifyRow, type HostTensor, type Tolerance, type VerifyRow } from '@srdiff/core';
import { toyDenoiser } from '../sampling/denoiser';
import { InjectedNoise } from '../sampling/noise';
import type { SamplerMethod } from '../sampling/sampler';
import { IRSDE } from '../sde/ir-sde';
import { IRSDE_DEFAULTS, type IRSDEOptions } from '../sde/options';
import type { TablePrecision } from '../schedule/precision';
import { readReferenceTensors, readSdeMeta, tensorOf, type SdeConfigMeta, type SdeReferenceMeta } from './sde-reference';

const CASE = 'sde';

export interface VerifySdeOptions {
  /** Table arithmetic to verify (default float32, as the original). */
  tablePrecision?: TablePrecision;
}

/** A computed quantity: its reference key and the values (NCHW order, like the reference). */
interface Computed {
  key: string;
  values?: ArrayLike<number>;
  ref?: ArrayLike<number>;
  note?: string;
}

/**
 * Runs every SDE parity case of a reference folder laid out like the PyTorch reference set's `sde/`
 * (configs, timesteps, functions, sampler settings and tolerances all read from its meta.json) and
 * returns one row per reference key: schedule tables, closed forms at each timestep, and the
 * posterior / SDE / ODE trajectories driven by the documented toy denoiser with the recorded noise.
 * Also reports tolerance keys it could not compute, and computed keys without a tolerance, as failures.
 */
export async function verifySdeReference(dir: string, options: VerifySdeOptions = {}): Promise<VerifyRow[]> {
  const meta = await readSdeMeta(dir);
  const precision = options.tablePrecision ?? IRSDE_DEFAULTS.tablePrecision;
  const computed: Computed[] = [
    ...(await tableCases(dir, meta, precision)),
    ...(await opsCases(dir, meta, precision)),
    ...(await trajectoryCases(dir, meta, precision)),
  ];
  return toRows(computed, meta);
}

function sdeOptions(config: SdeConfigMeta, tablePrecision: TablePrecision, sampleT?: number): IRSDEOptions {
  return {
    tablePrecision,
    maxSigma: config.max_sigma_arg ?? config.max_sigma!,
    T: config.T,
    schedule: config.schedule,
    eps: config.eps,
    sampleT: sampleT ?? config.sample_T,
  };
}

async function tableCases(dir: string, meta: SdeReferenceMeta, precision: TablePrecision): Promise<Computed[]> {
  const ref = await readReferenceTensors(dir, 'schedules.safetensors');
  const out: Computed[] = [];
  const names = ['thetas', 'sigmas', 'thetas_cumsum', 'sigma_bars', 'dt'];
  for (const [prefix, config] of Object.entries(meta.tables.configs)) {
    let sde: IRSDE;
    try {
      sde = new IRSDE(sdeOptions(config, precision));
    } catch (err) {
      out.push(...names.map((name) => ({ key: `schedules.safetensors:${prefix}.${name}`, note: (err as Error).message })));
      continue;
    }
    const tables: Record<string, ArrayLike<number>> = {
      thetas: sde.thetas,
      sigmas: sde.sigmas,
      thetas_cumsum: sde.thetasCumsum,
      sigma_bars: sde.sigmaBars,
      dt: [sde.dt],
    };
    for (const name of names) {
      const key = `schedules.safetensors:${prefix}.${name}`;
      out.push(await attempt(key, async () => compareTo(key, tables[name]!, tensorOf(ref, `${prefix}.${name}`))));
    }
  }
  return out;
}

type OpImpl = (sde: IRSDE, args: tf.Tensor4D[], mu: tf.Tensor4D, t: number) => tf.Tensor4D | number;

/** The original's method names → ours; tensor arguments in the original's order, mu before t. */
const OPS: Record<string, OpImpl> = {
  mu_bar: (s, [x0], mu, t) => s.muBar(x0!, mu, t),
  sigma_bar: (s, _, __, t) => s.sigmaBar(t),
  drift: (s, [x], mu, t) => s.drift(x!, mu, t),
  sde_reverse_drift: (s, [x, score], mu, t) => s.sdeReverseDrift(x!, score!, mu, t),
  ode_reverse_drift: (s, [x, score], mu, t) => s.odeReverseDrift(x!, score!, mu, t),
  reverse_sde_step_mean: (s, [x, score], mu, t) => s.reverseSdeStepMean(x!, score!, mu, t),
  reverse_ode_step: (s, [x, score], mu, t) => s.reverseOdeStep(x!, score!, mu, t),
  get_score_from_noise: (s, [noise], _, t) => s.scoreFromNoise(noise!, t),
  get_init_state_from_noise: (s, [xt, noise], mu, t) => s.initStateFromNoise(xt!, noise!, mu, t),
  reverse_optimum_step: (s, [xt, x0], mu, t) => s.reverseOptimumStep(xt!, x0!, mu, t),
  reverse_optimum_std: (s, _, __, t) => s.reverseOptimumStd(t),
  get_real_noise: (s, [xt, x0], mu, t) => s.realNoise(xt!, x0!, mu, t),
  get_real_score: (s, [xt, x0], mu, t) => s.realScore(xt!, x0!, mu, t),
  weights: (s, _, __, t) => s.weight(t),
};

async function opsCases(dir: string, meta: SdeReferenceMeta, precision: TablePrecision): Promise<Computed[]> {
  const ref = await readReferenceTensors(dir, 'ops.safetensors');
  const sde = new IRSDE(sdeOptions(meta.ops.config, precision, meta.ops.sample_T));
  const inputs = new Map<string, tf.Tensor4D>();
  const input = (name: string) => {
    if (!inputs.has(name)) inputs.set(name, toNhwc(tensorOf(ref, name)));
    return inputs.get(name)!;
  };
  const out: Computed[] = [];
  try {
    const mu = input('mu');
    for (const t of meta.ops.ts) {
      for (const fn of meta.ops.functions) {
        const key = `ops.safetensors:t${t}.${fn.name}`;
        const impl = OPS[fn.name];
        if (!impl) {
          out.push({ key, note: `no implementation of the original's "${fn.name}"` });
          continue;
        }
        out.push(await attempt(key, async () => {
          const args = fn.args.filter((a) => a !== 't').map(input);
          const result = impl(sde, args, mu, t);
          const values = typeof result === 'number' ? [result] : await toNchwValues(result);
          if (typeof result !== 'number') result.dispose();
          return compareTo(key, values, tensorOf(ref, `t${t}.${fn.name}`));
        }));
      }
    }
  } finally {
    inputs.forEach((x) => x.dispose());
  }
  return out;
}

const ORIGINAL_SAMPLERS: Record<string, SamplerMethod> = {
  reverse_posterior: 'posterior',
  reverse_sde: 'sde',
  reverse_ode: 'ode',
};

async function trajectoryCases(dir: string, meta: SdeReferenceMeta, precision: TablePrecision): Promise<Computed[]> {
  const ref = await readReferenceTensors(dir, 'trajectory.safetensors');
  const m = meta.trajectory;
  const sde = new IRSDE(sdeOptions(m.config, precision, m.sample_T));
  const denoiser = toyDenoiser(m.toy_noise_model_coefficients ?? { a: 0.1, b: 0.01 });
  const out: Computed[] = [];
  const mu = toNhwc(tensorOf(ref, 'mu'));
  const noiseInit = toNhwc(tensorOf(ref, 'noise_init'));
  try {
    const xT = sde.noiseState(mu, new InjectedNoise([noiseInit]));
    out.push(compareTo('trajectory.safetensors:x_T', await toNchwValues(xT), tensorOf(ref, 'x_T')));
    xT.dispose();
    const scaleNote = m.sample_scale !== undefined && m.sample_scale !== sde.sampleScale
      ? `sample_scale ${sde.sampleScale} differs from meta's ${m.sample_scale}` : undefined;

    for (const [original, spec] of Object.entries(m.methods)) {
      const key = `trajectory.safetensors:${spec.states}`;
      const method = ORIGINAL_SAMPLERS[original];
      if (!method) {
        out.push({ key, note: `no sampler for the original's "${original}"` });
        continue;
      }
      let draws: tf.Tensor4D[] = [];
      out.push(await attempt(key, async () => {
        draws = spec.z ? splitSteps(tensorOf(ref, spec.z)) : [];
        const noise = new InjectedNoise([noiseInit, ...draws]);
        const steps: number[] = [];
        const onStep = (step: number, total: number) => void steps.push(total - step + 1);
        const { x0, trajectory } = await sde.sample(denoiser, mu, { method, noise, returnTrajectory: true, onStep });
        const values = await toNchwValues(trajectory!);
        tf.dispose([x0, trajectory!]);
        const row = compareTo(key, values, tensorOf(ref, spec.states));
        const unused = noise.remaining ? `${noise.remaining} recorded draws left unused` : undefined;
        const expectedSteps = m.t_sequence;
        const order = expectedSteps && expectedSteps.join() !== steps.join()
          ? `stepped t = ${steps.join(',')} but meta's t_sequence is ${expectedSteps.join(',')}` : undefined;
        const note = [row.note, unused, scaleNote, order].filter(Boolean).join('; ') || undefined;
        // A mismatch in the step order is a failure even if the numbers happened to agree.
        return order ? { key, note } : { ...row, note };
      }));
      tf.dispose(draws);
    }
  } finally {
    tf.dispose([mu, noiseInit]);
  }
  return out;
}

/** Runs one case; an exception becomes a failing row that carries its message. */
async function attempt(key: string, compute: () => Promise<Computed>): Promise<Computed> {
  try {
    return await compute();
  } catch (err) {
    return { key, note: (err as Error).message };
  }
}

function compareTo(key: string, values: ArrayLike<number>, ref: HostTensor): Computed {
  if (values.length !== ref.data.length) {
    return { key, note: `computed ${values.length} values, the reference has shape [${ref.shape.join(', ')}]` };
  }
  return { key, values, ref: ref.data };
}

function toRows(computed: Computed[], meta: SdeReferenceMeta): VerifyRow[] {
  const rows: VerifyRow[] = [];
  const seen = new Set<string>();
  for (const c of computed) {
    seen.add(c.key);
    let tol: Tolerance;
    try {
      tol = findTolerance(meta.tolerances, c.key);
    } catch {
      rows.push({ case: CASE, key: c.key, error: NaN, tolerance: NaN, kind: 'rel', pass: false, note: 'no tolerance for this key in meta.json' });
      continue;
    }
    rows.push(c.values
      ? verifyRow(CASE, c.key, c.values, c.ref!, tol, c.note)
      : { case: CASE, key: c.key, error: NaN, tolerance: tol.value, kind: tol.kind, pass: false, note: c.note });
  }
  for (const [key, tol] of Object.entries(meta.tolerances)) {
    if (!seen.has(key) && !key.includes('*')) {
      rows.push({ case: CASE, key, error: NaN, tolerance: tol.value, kind: tol.kind, pass: false, note: 'listed in meta.json tolerances but not computed' });
    }
  }
  return rows;
}

/** A reference NCHW image as an NHWC tensor (the public layout). */
function toNhwc(host: HostTensor): tf.Tensor4D {
  if (host.shape.length !== 4) throw new Error(`expected a 4-D NCHW tensor, got shape [${host.shape.join(', ')}]`);
  return tf.tidy(() => tf.transpose(tf.tensor4d(host.data, host.shape as [number, number, number, number]), [0, 2, 3, 1]));
}

/** [steps, N, C, H, W] recorded draws → one NHWC tensor per step. */
function splitSteps(host: HostTensor): tf.Tensor4D[] {
  const [steps, ...image] = host.shape;
  const size = image.reduce((a, b) => a * b, 1);
  return Array.from({ length: steps! }, (_, k) => toNhwc({ shape: image, data: host.data.subarray(k * size, (k + 1) * size) }));
}

/** Values of an NHWC tensor (or a stack of them) in the reference's NCHW order. */
async function toNchwValues(x: tf.Tensor): Promise<Float32Array> {
  const perm = x.rank === 5 ? [0, 1, 4, 2, 3] : [0, 3, 1, 2];
  const nchw = tf.transpose(x, perm);
  const values = (await nchw.data()) as Float32Array;
  nchw.dispose();
  return values;
}
