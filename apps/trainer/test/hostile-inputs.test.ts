/**
 * The smaller findings of the hostile trials (issue 14, "Also found"): hints in the keys a CLI
 * user types, interrupted restores exit 130, SIGHUP saves like Ctrl-C, tiny and huge images are
 * named with what to do, extract embeds every pair discovery finds, a resumed run logs each step
 * once, and run names cannot climb out of runs/.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { writeImage } from '@srdiff/data';
import { OptionsError } from '../src/options/schema';
import { openDataset } from '../src/pipeline/dataset';
import { trainDiffusion, type TrainEvent } from '../src/training/train-diffusion';
import { checkpointNames, cli, exited, spawnCli, tinyDataset, tinyOptions, tinyRawOptions } from './helpers/tiny-run';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'srdiff-hostile-'));
let data: string;
let model: string;
beforeAll(async () => {
  data = await tinyDataset(path.join(tmp, 'data'));
  model = path.join(tmp, 'model');
  await trainDiffusion({ options: tinyOptions(data, model, ['train.niter=2']) });
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const image = (w: number, h: number, v = 0.4) => ({ shape: [1, h, w, 3], data: new Float32Array(w * h * 3).fill(v) });

describe('hints name what a CLI user sets', () => {
  test('a dataset defect suggests datasets.train.on_error: skip, a small image datasets.train.small_images: pad', async () => {
    const broken = await tinyDataset(path.join(tmp, 'partnerless'));
    fs.rmSync(path.join(broken, 'train', 'rainy', 'GT', 'coffee.png'));
    const err = await trainDiffusion({ options: tinyOptions(broken, path.join(tmp, 'r1')) }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/coffee\.png has no partner/);
    expect((err as Error).message).toMatch(/set datasets\.train\.on_error: skip to leave such pairs out/);
    expect((err as Error).message).not.toMatch(/onInvalid/);
    // With the key set, the pair is left out and training runs.
    const res = await trainDiffusion({ options: tinyOptions(broken, path.join(tmp, 'r1'), ['datasets.train.on_error=skip', 'train.niter=1']) });
    expect(res.step).toBe(1);

    const small = await trainDiffusion({ options: tinyOptions(data, path.join(tmp, 'r2'), ['datasets.train.patch_size=48']) }).catch((e: Error) => e);
    expect((small as Error).message).toMatch(/smaller than patch_size 48; use larger images, a smaller patch, or datasets\.train\.small_images: pad/);
  });

  test('plain weights given as path.resume_state point to path.pretrain_model_G', async () => {
    const err = await trainDiffusion({ options: tinyOptions(data, path.join(tmp, 'r3'), [`path.resume_state=${path.join(model, 'models', 'last_G.safetensors')}`]) }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/last_G\.safetensors: not an srdiff training checkpoint .*set path\.pretrain_model_G/);
    expect((err as Error).message).not.toMatch(/readSafetensors/);
  });
});

describe('interrupts', () => {
  test('restore interrupted by SIGINT exits 130 and writes no partial image', async () => {
    const photo = path.join(tmp, 'big.png');
    await writeImage(photo, image(256, 256));
    const out = path.join(tmp, 'sigint-out');
    const child = spawnCli(['restore', photo, '--model', model, '--out', out, '--steps', '200', '--engine', 'tfjs', '--tile', '64', '--overlap', '8']);
    const done = exited(child);
    const sampling = new Promise<void>((resolve) => {
      let text = '';
      child.stderr!.on('data', (d) => {
        text += d;
        if (/restore: 1 image/.test(text)) resolve();
      });
    });
    await Promise.race([sampling, done]);
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGINT');
    const end = await done;
    expect(end.output).toMatch(/Interrupted/);
    // Before: exit 1 ("interrupted" surfaced as a failure).
    expect(end.code).toBe(130);
    expect(fs.existsSync(path.join(out, 'big.png'))).toBe(false);
  });

  test('SIGHUP (the terminal went away) stops training at a step boundary with a checkpoint, exit 130', async () => {
    const run = path.join(tmp, 'hangup');
    const opt = path.join(tmp, 'hangup.yml');
    fs.writeFileSync(opt, yaml.dump({ ...tinyRawOptions(data, run), train: { niter: 100000, lr_G: 1e-3, threads: 1 }, logger: { print_freq: 1, save_checkpoint_freq: 100000 } }));
    const child = spawnCli(['train', '-opt', opt, '--quiet']);
    const done = exited(child);
    const metrics = path.join(run, 'metrics.jsonl');
    while (!(fs.existsSync(metrics) && fs.readFileSync(metrics, 'utf8').split('\n').length > 3)) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGHUP');
    const end = await done;
    // Before: SIGHUP's default action killed the process with nothing saved.
    expect(end.code).toBe(130);
    expect(checkpointNames(run).length).toBe(1);
  });
});

describe('image sizes', () => {
  test('an image too small for the UNet is named', async () => {
    // The tiny UNet pads to a multiple of 2, so one row is too few (the paper's depth: 5 rows).
    const tiny = path.join(tmp, 'seven-by-one.png');
    await writeImage(tiny, image(7, 1));
    const res = await cli(['restore', tiny, '--model', model, '--out', path.join(tmp, 'small-out'), '--steps', '1', '--engine', 'tfjs']);
    expect(res.code).toBe(1);
    expect(res.output).toMatch(/seven-by-one\.png: .*height 1 is too small/);
  });

  test('an image over --max-megapixels is refused before decoding, with what it would cost and the flag to raise', async () => {
    const wide = path.join(tmp, 'wide.png');
    await writeImage(wide, image(600, 400));
    const res = await cli(['restore', wide, '--model', model, '--out', path.join(tmp, 'wide-out'), '--steps', '3', '--engine', 'tfjs', '--max-megapixels', '0.2']);
    expect(res.code).toBe(1);
    expect(res.output).toMatch(/wide\.png: 600×400 \(0\.2 megapixels\) would hold ~0\.0 GB of image buffers besides the model, and take 2 tile\(s\) × 3 sampling steps/);
    expect(res.output).toMatch(/raise the limit with --max-megapixels 1/);
    expect(fs.existsSync(path.join(tmp, 'wide-out', 'wide.png'))).toBe(false);
  });
});

describe('extract and discovery see the same pairs', () => {
  test('pairs in sub-folders and symlinked pairs get embeddings, so training finds every one', async () => {
    const root = await tinyDataset(path.join(tmp, 'nested'));
    const task = path.join(root, 'train', 'rainy');
    const elsewhere = path.join(tmp, 'elsewhere');
    for (const side of ['LQ', 'GT']) {
      fs.mkdirSync(path.join(task, side, 'sub'));
      fs.renameSync(path.join(task, side, 'coffee.png'), path.join(task, side, 'sub', 'coffee.png'));
      fs.mkdirSync(path.join(elsewhere, side), { recursive: true });
      fs.renameSync(path.join(task, side, 'camera.png'), path.join(elsewhere, side, 'camera.png'));
      fs.symlinkSync(path.join(elsewhere, side, 'camera.png'), path.join(task, side, 'camera.png'));
    }
    const res = await cli(['extract', '--data', root, '--model', 'tiny', '--phase', 'train']);
    expect(res.code).toBe(0);
    expect(fs.existsSync(path.join(task, 'LQCLS', 'sub', 'coffee.npy'))).toBe(true);
    expect(fs.existsSync(path.join(task, 'LQCLS', 'camera.npy'))).toBe(true);
    // Before: "pair sub/coffee (…) has no embedding", and re-running extract never fixed it.
    const ds = await openDataset(
      tinyOptions(root, path.join(tmp, 'unused'), ['datasets.train.context=LQCLS']).datasets.train,
      'train', [], { context_dim: 16, use_image_context: true }, null, () => undefined,
    );
    expect(ds.length).toBe(7);
    expect(ds.pairs.map((p) => p.name)).toEqual(expect.arrayContaining(['camera', 'sub/coffee']));
    expect(ds.pairs.every((p) => p.embedding && fs.existsSync(p.embedding))).toBe(true);
  });
});

describe('metrics.jsonl after a kill', () => {
  test('records of steps trained again after a resume are dropped, so each step appears once', async () => {
    const run = path.join(tmp, 'dupes');
    await trainDiffusion({ options: tinyOptions(data, run) });
    // As after a kill -9 between step 4's log line and its checkpoint: steps 3-4 are logged, step 2 is the last checkpoint.
    fs.rmSync(path.join(run, 'checkpoints', 'step-00000004.ckpt'));
    fs.appendFileSync(path.join(run, 'metrics.jsonl'), '{"type":"train","step":5,"lo'); // and a torn line
    await trainDiffusion({ options: tinyOptions(data, run, ['train.niter=6', 'path.resume_state=auto']) });
    const records = fs.readFileSync(path.join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(records.filter((r) => r.type === 'train').map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe('where a run goes', () => {
  test('a name with path separators is refused; the run folder is resolved and reported', async () => {
    const err = await trainDiffusion({ options: tinyOptions(data, path.join(tmp, 'x'), [], { name: '../../etc', path: {} }) }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(OptionsError);
    expect((err as Error).message).toMatch(/name: "\.\.\/\.\.\/etc" is not allowed/);

    const events: TrainEvent[] = [];
    const climbing = path.join(tmp, 'a', '..', 'resolved');
    await trainDiffusion({ options: tinyOptions(data, climbing, ['train.niter=1']), onEvent: (e) => events.push(e) });
    const start = events.find((e) => e.type === 'start') as Extract<TrainEvent, { type: 'start' }>;
    expect(start.runDir).toBe(path.join(tmp, 'resolved'));
    expect(fs.existsSync(path.join(tmp, 'resolved', 'checkpoints'))).toBe(true);

    const test = await cli(['test', '--model', model, '--data', data, '--phase', 'train', '--set', 'name=../up', '--steps', '1', '--engine', 'tfjs']);
    expect(test.code).toBe(2);
    expect(test.output).toMatch(/name: "\.\.\/up" is not allowed/);
  });
});
