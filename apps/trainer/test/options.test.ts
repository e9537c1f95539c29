import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { formatHelp, parseArgs, UsageError } from '../src/cli/args';
import { loadOptions } from '../src/options/load-options';
import { OptionsError } from '../src/options/schema';
import { TRAIN_OPTIONS_SCHEMA, type TrainOptions } from '../src/options/train-options';
import { learningRateSchedule } from '../src/training/lr-schedule';

const ORIGINAL_TRAIN_YML = `
name: github
use_tb_logger: true
model: denoising
distortion: [hazy]
gpu_ids: [0]
sde:
  max_sigma: 10
  T: 100
  schedule: cosine # linear, cosine
  eps: 0.005
degradation:
  sigma: 25
  noise_type: G
  scale: 4
datasets:
  train:
    name: Train_Dataset
    mode: LQGT
    dataroot_GT: /data/train/hazy/GT
    dataroot_LQ: /data/train/hazy/LQ
    use_shuffle: true
    n_workers: 4
    batch_size: 4
    patch_size: 256
    use_flip: true
    large-size: true
    use_rot: true
    color: RGB
  val:
    name: Val_Dataset
    mode: LQGT
    dataroot_GT: /data/val/hazy/GT
    dataroot_LQ: /data/val/hazy/LQ
network_G:
  which_model_G: ConditionalUNet
  setting:
    in_nc: 3
    out_nc: 3
    nf: 64
    ch_mult: [1, 2, 4, 8]
    context_dim: 768
    use_degra_context: false
    use_image_context: true
path:
  pretrain_model_G: ~
  resume_state: ~
  daclip: ~
  strict_load: true
train:
  optimizer: AdamW
  lr_G: !!float 2e-4
  lr_scheme: TrueCosineAnnealingLR
  beta1: 0.9
  beta2: 0.99
  niter: 1500000
  warmup_iter: -1
  lr_steps: [200000, 400000, 700000]
  lr_gamma: 0.5
  eta_min: !!float 3e-6
  is_weighted: False
  loss_type: l1
  weight: 1.0
  manual_seed: 0
  val_freq: !!float 1e1
logger:
  print_freq: 200
  save_checkpoint_freq: !!float 5e3
`;

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'srdiff-opt-'))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('options files', () => {
  test("the original train.yml loads unchanged, with every key's value and no warnings", () => {
    const file = path.join(dir, 'train.yml');
    fs.writeFileSync(file, ORIGINAL_TRAIN_YML);
    const { options, warnings } = loadOptions<TrainOptions>(TRAIN_OPTIONS_SCHEMA, file);
    expect(warnings).toEqual([]);
    expect(options.sde).toMatchObject({ max_sigma: 10, T: 100, schedule: 'cosine', eps: 0.005 });
    expect(options.network_G.setting).toEqual({ in_nc: 3, out_nc: 3, nf: 64, ch_mult: [1, 2, 4, 8], context_dim: 768, use_degra_context: false, use_image_context: true });
    expect(options.train).toMatchObject({ lr_G: 2e-4, beta2: 0.99, eta_min: 3e-6, val_freq: 10, niter: 1500000 });
    expect(options.logger.save_checkpoint_freq).toBe(5000);
    expect(options.datasets.train).toMatchObject({ dataroot_LQ: '/data/train/hazy/LQ', batch_size: 4, patch_size: 256 });
    expect(options.train.ema_beta).toBe(0.995);
  });

  test('every invalid key is reported at once with its value and what is allowed', () => {
    const file = path.join(dir, 'bad.yml');
    fs.writeFileSync(file, 'sde:\n  schedule: quadratic\n  T: 0\ntrain:\n  lr_G: -1\n  optimizer: SGD\nnetwork_G:\n  setting:\n    ch_mult: [1, two]\n');
    let err: OptionsError | undefined;
    try {
      loadOptions(TRAIN_OPTIONS_SCHEMA, file);
    } catch (e) {
      err = e as OptionsError;
    }
    expect(err).toBeInstanceOf(OptionsError);
    expect(err!.problems).toHaveLength(5);
    expect(err!.message).toMatch(new RegExp(`^${file}: invalid options`));
    expect(err!.message).toMatch(/sde.schedule: "quadratic" is not allowed \(expected a string, one of cosine, linear, constant/);
    expect(err!.message).toMatch(/sde.T: 0 is not allowed \(expected an integer, >= 1/);
    expect(err!.message).toMatch(/train.lr_G: -1 is not allowed \(expected a number, > 0/);
    expect(err!.message).toMatch(/train.optimizer: "SGD" is not allowed/);
    expect(err!.message).toMatch(/network_G.setting.ch_mult: \[1,"two"\] is not allowed \(expected a list of integers/);
  });

  test('unknown keys are warnings naming the key; --set overrides parse as YAML', () => {
    const { options, warnings } = loadOptions<TrainOptions>(TRAIN_OPTIONS_SCHEMA, undefined, { train: { lr_GG: 1 } }, ['train.niter=20', 'network_G.setting.ch_mult=[1,2]', 'path.pretrain_model_G=~']);
    expect(warnings).toEqual(['options: unknown key "train.lr_GG" ignored']);
    expect(options.train.niter).toBe(20);
    expect(options.network_G.setting.ch_mult).toEqual([1, 2]);
    expect(() => loadOptions(TRAIN_OPTIONS_SCHEMA, undefined, {}, ['justakey'])).toThrow(/must look like key.path=value/);
  });

  test('a missing or unparsable file is a clear error', () => {
    expect(() => loadOptions(TRAIN_OPTIONS_SCHEMA, path.join(dir, 'nope.yml'))).toThrow(/nope.yml: invalid options:\n  - cannot read \(ENOENT\)/);
    fs.writeFileSync(path.join(dir, 'x.yml'), 'a: [1, 2\n');
    expect(() => loadOptions(TRAIN_OPTIONS_SCHEMA, path.join(dir, 'x.yml'))).toThrow(/not valid YAML/);
  });
});

describe('learning-rate schedules from train.*', () => {
  const base = loadOptions<TrainOptions>(TRAIN_OPTIONS_SCHEMA, undefined, { train: { niter: 100, lr_G: 1e-3, eta_min: 1e-5 } }).options.train;
  test('TrueCosineAnnealingLR runs from lr_G to eta_min over niter', () => {
    const s = learningRateSchedule(base);
    expect(s(0)).toBeCloseTo(1e-3, 12);
    expect(s(100)).toBeCloseTo(1e-5, 12);
    expect(s(50)).toBeCloseTo((1e-3 + 1e-5) / 2, 12);
  });
  test('warm-up ramps linearly, multi-step halves at the milestones', () => {
    const cosine = learningRateSchedule(base);
    const warm = learningRateSchedule({ ...base, warmup_iter: 10 });
    expect(warm(4)).toBeCloseTo(cosine(4) * (5 / 10), 12);
    expect(warm(10)).toBe(cosine(10));
    const ms = learningRateSchedule({ ...base, lr_scheme: 'MultiStepLR', lr_steps: [10, 20], lr_gamma: 0.5 });
    expect([ms(9), ms(10), ms(25)]).toEqual([1e-3, 5e-4, 2.5e-4]);
  });
});

describe('command-line parsing', () => {
  const spec = {
    name: 'x', summary: 's', usage: 'u', positionals: ['image'],
    options: {
      opt: { type: 'string' as const, description: 'file', aliases: ['opt'] },
      steps: { type: 'number' as const, description: 'n', default: 5 },
      engine: { type: 'string' as const, description: 'e', choices: ['onnx', 'tfjs'] },
      quiet: { type: 'boolean' as const, description: 'q', default: false },
      tasks: { type: 'string[]' as const, description: 't' },
    },
  };
  test("accepts the original's -opt, --k=v, repeated lists, --no-flag and positionals", () => {
    const r = parseArgs(spec, ['-opt', 'a.yml', '--steps=7', '--tasks', 'a,b', '--tasks', 'c', '--quiet', '--no-quiet', 'img.png']);
    expect(r.options).toEqual({ opt: 'a.yml', steps: 7, tasks: ['a', 'b', 'c'], quiet: false });
    expect(r.positionals).toEqual(['img.png']);
  });
  test('rejects unknown options, bad numbers and choices with the option name', () => {
    expect(() => parseArgs(spec, ['--step', '3'])).toThrow(UsageError);
    expect(() => parseArgs(spec, ['--steps', 'many'])).toThrow(/--steps must be a number, got "many"/);
    expect(() => parseArgs(spec, ['--engine', 'gpu'])).toThrow(/--engine must be one of onnx, tfjs; got "gpu"/);
    expect(() => parseArgs(spec, ['--opt'])).toThrow(/--opt needs a value/);
  });
  test('help lists every option with defaults and choices', () => {
    const help = formatHelp(spec);
    expect(help).toMatch(/--steps <number>\s+n \(default: 5\)/);
    expect(help).toMatch(/--engine <string>\s+e \(one of: onnx, tfjs\)/);
  });
});
