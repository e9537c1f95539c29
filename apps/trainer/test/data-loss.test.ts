/**
 * Fault injection: nothing a user trained or owns is lost. One test per data-loss defect found by
 * the hostile trials of issue 14 — each failed on the code before its fix:
 *  1. re-running train into an existing run folder        5. non-finite embeddings (train, test, restore)
 *  2. --resume with every checkpoint damaged               6. an image that breaks mid-run
 *  3. pruning with damaged checkpoints                     7. kill -9 during a checkpoint write
 *  4. restore into its own folder / colliding names       8. metrics.csv with hostile names
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { readSafetensors, writeNpy, writeSafetensors } from '@srdiff/core';
import { writeImage } from '@srdiff/data';
import { SRM_WEIGHTS_FORMAT, SemanticRefinementModule, resolveSrmConfig } from '@srdiff/srm';
import { trainDiffusion, type TrainEvent } from '../src/training/train-diffusion';
import {
  checkpointNames, cli, damage, exited, snapshot, spawnCli, temporaries, tinyDataset, tinyOptions, tinyRawOptions,
} from './helpers/tiny-run';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'srdiff-loss-'));
let data: string;
beforeAll(async () => {
  data = await tinyDataset(path.join(tmp, 'data'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Writes a tiny run's options file (YAML) and returns its path. */
function optionsFile(name: string, run: string, extra: Record<string, unknown> = {}): string {
  const file = path.join(tmp, `${name}.yml`);
  const raw = tinyRawOptions(data, run);
  fs.writeFileSync(file, yaml.dump({ ...raw, ...extra }));
  return file;
}

describe('1. train into a folder that already holds a run', () => {
  test('is refused without --resume, naming the ways out; nothing of the old run changes; --overwrite replaces it', async () => {
    const run = path.join(tmp, 'rerun');
    const opt = optionsFile('rerun', run);
    expect((await cli(['train', '-opt', opt, '--quiet'])).code).toBe(0);
    const before = snapshot(run);
    expect(Object.keys(before)).toContain(path.join('models', 'last_G.safetensors'));

    const again = await cli(['train', '-opt', opt, '--quiet']);
    expect(again.code).toBe(2);
    expect(again.output).toMatch(/already holds a run .*step 4/);
    expect(again.output).toMatch(/--resume/);
    expect(again.output).toMatch(/--overwrite/);
    expect(again.output).toMatch(/name|experiments_root/);
    expect(snapshot(run)).toEqual(before);

    const replaced = await cli(['train', '-opt', opt, '--quiet', '--overwrite', '--set', 'train.niter=2']);
    expect(replaced.code).toBe(0);
    expect(replaced.output).toMatch(/--overwrite: removed the previous run/);
    expect(checkpointNames(run)).toEqual(['step-00000002.ckpt']);
    const steps = fs.readFileSync(path.join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).step);
    expect(steps).toEqual([1, 2]);
  });
});

describe('2. --resume when every checkpoint is damaged', () => {
  test('fails listing every checkpoint and why, and leaves the weights alone', async () => {
    const run = path.join(tmp, 'all-damaged');
    await trainDiffusion({ options: tinyOptions(data, run) });
    const [a, b] = checkpointNames(run);
    damage(path.join(run, 'checkpoints', a!), 'truncate');
    damage(path.join(run, 'checkpoints', b!), 'flip');
    const before = snapshot(run);

    const res = await cli(['train', '-opt', optionsFile('all-damaged', run), '--resume', '--quiet']);
    expect(res.code).toBe(1);
    expect(res.output).toMatch(/no checkpoint to resume/);
    expect(res.output).toMatch(new RegExp(`${a}: .*unreadable`));
    expect(res.output).toMatch(new RegExp(`${b}: .*checksum mismatch`));
    expect(res.output).toMatch(/--overwrite/);
    expect(snapshot(run)).toEqual(before);
  });
});

describe('3. pruning with damaged checkpoints', () => {
  test('keeps the good ones (damaged ones do not count), and never deletes the last good one', async () => {
    const run = path.join(tmp, 'prune');
    await trainDiffusion({ options: tinyOptions(data, run, ['train.niter=8']) });
    expect(checkpointNames(run)).toEqual(['step-00000004.ckpt', 'step-00000006.ckpt', 'step-00000008.ckpt']);
    damage(path.join(run, 'checkpoints', 'step-00000008.ckpt'), 'flip');
    damage(path.join(run, 'checkpoints', 'step-00000006.ckpt'), 'truncate');
    const events: TrainEvent[] = [];
    await trainDiffusion({ options: tinyOptions(data, run, ['train.niter=8', 'path.resume_state=auto']), maxSteps: 1, onEvent: (e) => events.push(e) });
    expect((events.find((e) => e.type === 'start') as Extract<TrainEvent, { type: 'start' }>).step).toBe(4);
    // Before: the two damaged files were "the newest" and step 4, the only other good one, was deleted.
    expect(checkpointNames(run)).toEqual(['step-00000004.ckpt', 'step-00000005.ckpt']);
    expect(events.filter((e) => e.type === 'log').map((e) => (e as { message: string }).message).join('\n')).toMatch(/removed damaged checkpoint .*step-00000008\.ckpt/);
  });
});

describe('4. restore next to its inputs', () => {
  let model: string;
  let inputs: string;
  beforeAll(async () => {
    model = path.join(tmp, 'restore-model');
    await trainDiffusion({ options: tinyOptions(data, model, ['train.niter=2']) });
    inputs = path.join(tmp, 'photos');
    fs.mkdirSync(inputs);
    const img = (v: number) => ({ shape: [1, 32, 32, 3], data: new Float32Array(32 * 32 * 3).fill(v) });
    await writeImage(path.join(inputs, 'a.png'), img(0.2));
    await writeImage(path.join(inputs, 'a.jpg'), img(0.5));
    await writeImage(path.join(inputs, 'b.png'), img(0.8));
  });

  test('--out onto the input folder is refused before anything is written', async () => {
    const before = snapshot(inputs);
    const res = await cli(['restore', inputs, '--model', model, '--out', inputs, '--steps', '2', '--engine', 'tfjs']);
    expect(res.code).toBe(2);
    expect(res.output).toMatch(/would overwrite the input .*b\.png/);
    expect(res.output).toMatch(/--out/);
    expect(snapshot(inputs)).toEqual(before);
  });

  test('inputs that share a name (a.jpg, a.png) keep their extension in the output name, and it says so', async () => {
    const out = path.join(tmp, 'restored');
    const res = await cli(['restore', inputs, '--model', model, '--out', out, '--steps', '2', '--engine', 'tfjs']);
    expect(res.code).toBe(0);
    expect(fs.readdirSync(out).filter((f) => !f.startsWith('.')).sort()).toEqual(['a.jpg.png', 'a.png.png', 'b.png']);
    expect(res.output).toMatch(/a\.jpg and a\.png share the name "a"/);
  });
});

describe('5. non-finite embeddings', () => {
  const setting = { nf: 16, ch_mult: [1, 2], context_dim: 16, use_image_context: true };
  let ctxData: string;
  let bad: string;
  beforeAll(async () => {
    ctxData = await tinyDataset(path.join(tmp, 'ctx-data'));
    const dir = path.join(ctxData, 'train', 'rainy', 'RestoreCLS');
    const names = fs.readdirSync(path.join(ctxData, 'train', 'rainy', 'LQ')).map((f) => f.replace(/\.png$/, ''));
    for (const [i, n] of names.entries()) await writeNpy(path.join(dir, `${n}.npy`), { shape: [16], data: Float32Array.from({ length: 16 }, (_, k) => Math.sin(i + k)) });
    bad = path.join(dir, `${names[3]}.npy`);
  });
  const poison = () => writeNpy(bad, { shape: [16], data: Float32Array.from({ length: 16 }, (_, k) => (k === 5 ? NaN : 0.1)) });
  const heal = () => writeNpy(bad, { shape: [16], data: new Float32Array(16).fill(0.1) });

  test('train refuses before the first step, naming the file (not the learning rate)', async () => {
    await poison();
    const run = path.join(tmp, 'nan-train');
    const err = await trainDiffusion({ options: tinyOptions(ctxData, run, [], { network_G: { setting } }) }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(bad);
    expect((err as Error).message).toMatch(/not finite/);
    expect((err as Error).message).not.toMatch(/lr_G/);
    expect(checkpointNames(run)).toEqual([]);
  });

  test('test stops naming the file instead of writing black images', async () => {
    await heal();
    const run = path.join(tmp, 'ctx-model');
    await trainDiffusion({ options: tinyOptions(ctxData, run, ['train.niter=2'], { network_G: { setting } }) });
    await poison();
    const results = path.join(tmp, 'nan-results');
    const res = await cli(['test', '--model', run, '--data', ctxData, '--phase', 'train', '--steps', '2', '--out', results, '--engine', 'tfjs']);
    expect(res.code).toBe(1);
    expect(res.output).toContain(bad);
    expect(res.output).toMatch(/not finite/);
    expect(fs.existsSync(path.join(results, 'test', 'metrics.csv'))).toBe(false);
  });

  test('restore names the image whose embedding is not finite', async () => {
    await heal();
    const srm = new SemanticRefinementModule(resolveSrmConfig({ inputDim: 16, hiddenDim: 32, numLayers: 1, numHeads: 4 }));
    const weights = srm.stateDict();
    srm.dispose();
    const first = Object.keys(weights).find((k) => k.endsWith('weight'))!;
    weights[first]!.data.fill(NaN);
    const srmFile = path.join(tmp, 'nan-srm.safetensors');
    await writeSafetensors(srmFile, weights, { format: SRM_WEIGHTS_FORMAT, config: JSON.stringify({ inputDim: 16, hiddenDim: 32, numLayers: 1, numHeads: 4 }) });
    const image = path.join(ctxData, 'train', 'rainy', 'LQ', 'coffee.png');
    const out = path.join(tmp, 'nan-restored');
    const res = await cli(['restore', image, '--model', path.join(tmp, 'ctx-model'), '--vlm', 'tiny', '--srm', srmFile, '--out', out, '--steps', '2', '--engine', 'tfjs']);
    expect(res.code).toBe(1);
    expect(res.output).toMatch(/coffee\.png: .*embedding .*not finite/);
    expect(fs.existsSync(path.join(out, 'coffee.png'))).toBe(false);
  });
});

describe('6. an image that cannot be decoded mid-run', () => {
  test('training checkpoints the steps done before stopping, naming the file and the way out', async () => {
    const broken = await tinyDataset(path.join(tmp, 'broken-data'));
    const run = path.join(tmp, 'broken');
    const victim = path.join(broken, 'train', 'rainy', 'LQ', 'camera.png');
    let last = 0;
    const onEvent = (e: TrainEvent) => {
      if (e.type !== 'step') return;
      last = e.step;
      // A valid header and a truncated body: discovery (headers only) passed; decoding now fails.
      if (e.step === 3) damage(victim, 'truncate');
    };
    const err = await trainDiffusion({ options: tinyOptions(broken, run, ['train.niter=30', 'logger.save_checkpoint_freq=100']), onEvent }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect(last).toBeGreaterThanOrEqual(3);
    expect((err as Error).message).toContain(victim);
    expect((err as Error).message).toMatch(/datasets\.train\.on_error: skip/);
    expect((err as Error).message).toMatch(/--resume/);
    // Before: no checkpoint at all — every step since the last periodic one was lost.
    expect(checkpointNames(run)).toEqual([`step-${String(last).padStart(8, '0')}.ckpt`]);
    expect(fs.existsSync(path.join(run, 'models', 'last_G.safetensors'))).toBe(true);
  });

  test('datasets.train.on_error: skip trains past the pair with one warning and counts the skips; resuming reproduces the run', async () => {
    const broken = await tinyDataset(path.join(tmp, 'skip-data'));
    const victim = path.join(broken, 'train', 'rainy', 'LQ', 'camera.png');
    damage(victim, 'truncate');
    const sets = ['train.niter=12', 'datasets.train.on_error=skip'];
    const events: TrainEvent[] = [];
    const whole = await trainDiffusion({ options: tinyOptions(broken, path.join(tmp, 'skip-whole'), sets), onEvent: (e) => events.push(e) });
    expect(whole.step).toBe(12);
    expect(whole.skipped.pairs).toEqual([victim]);
    expect(whole.skipped.samples).toBeGreaterThan(0);
    const warnings = events.filter((e) => e.type === 'log' && e.message.includes(victim));
    expect(warnings.length).toBe(1);

    const split = path.join(tmp, 'skip-split');
    await trainDiffusion({ options: tinyOptions(broken, split, sets), maxSteps: 5 });
    await trainDiffusion({ options: tinyOptions(broken, split, [...sets, 'path.resume_state=auto']) });
    const a = await readSafetensors(path.join(tmp, 'skip-whole', 'models', 'last_G.safetensors'));
    const b = await readSafetensors(path.join(split, 'models', 'last_G.safetensors'));
    for (const [k, t] of Object.entries(a.tensors)) expect(Buffer.compare(Buffer.from(t.data.buffer), Buffer.from(b.tensors[k]!.data.buffer))).toBe(0);
  });
});

describe('7. kill -9 during a checkpoint write', () => {
  test('the temporary it leaves is removed when the run starts again', async () => {
    const run = path.join(tmp, 'kill-write');
    const opt = optionsFile('kill-write', run, { network_G: { setting: { nf: 16, ch_mult: [1, 2], context_dim: 16, use_image_context: false } } });
    const ckptDir = path.join(run, 'checkpoints');
    let leftovers: string[] = [];
    // A kill lands inside a write only when the watcher is fast enough: try a few times.
    for (let attempt = 0; attempt < 8 && leftovers.length === 0; attempt++) {
      const args = ['train', '-opt', opt, '--quiet', '--set', 'train.niter=200', '--set', 'logger.save_checkpoint_freq=1', ...(attempt ? ['--resume'] : [])];
      const child = spawnCli(args);
      const done = exited(child);
      await waitFor(() => fs.existsSync(ckptDir), 30000);
      const watcher = fs.watch(ckptDir, (_event, name) => {
        if (name && /^\.step-\d+\.ckpt\..*\.tmp$/.test(String(name))) child.kill('SIGKILL');
      });
      const end = await done;
      watcher.close();
      expect(end.signal).toBe('SIGKILL');
      leftovers = temporaries(ckptDir);
    }
    expect(leftovers.length).toBeGreaterThan(0);
    const res = await exited(spawnCli(['train', '-opt', opt, '--quiet', '--resume', '--max-steps', '1', '--set', 'train.niter=200']));
    expect(res.code).toBe(0);
    // Before: every killed write left its hidden .tmp behind for good.
    expect(temporaries(run)).toEqual([]);
  });

  test('a temporary whose writer is still alive is left alone', async () => {
    const run = path.join(tmp, 'live-writer');
    await trainDiffusion({ options: tinyOptions(data, run, ['train.niter=2']) });
    const sleeper = spawn('sleep', ['30']);
    const dead = spawn('true');
    await new Promise((r) => dead.on('exit', r));
    const live = path.join(run, 'checkpoints', `.step-00000004.ckpt.${sleeper.pid}.${Date.now()}.abc.tmp`);
    const stale = path.join(run, 'models', `.last_G.safetensors.${dead.pid}.${Date.now()}.def.tmp`);
    fs.writeFileSync(live, 'partial');
    fs.writeFileSync(stale, 'partial');
    try {
      await trainDiffusion({ options: tinyOptions(data, run, ['train.niter=3', 'path.resume_state=auto']) });
      expect(fs.existsSync(stale)).toBe(false);
      expect(fs.existsSync(live)).toBe(true);
    } finally {
      sleeper.kill();
    }
  });
});

describe('8. metrics.csv', () => {
  test('quotes names with commas and quotes as RFC 4180 says', async () => {
    const hostile = await tinyDataset(path.join(tmp, 'csv-data'));
    for (const side of ['LQ', 'GT']) fs.renameSync(path.join(hostile, 'train', 'rainy', side, 'coffee.png'), path.join(hostile, 'train', 'rainy', side, 'x,y"z.png'));
    const model = path.join(tmp, 'csv-model');
    await trainDiffusion({ options: tinyOptions(hostile, model, ['train.niter=2']) });
    const results = path.join(tmp, 'csv-results');
    const res = await cli(['test', '--model', model, '--data', hostile, '--phase', 'train', '--steps', '2', '--out', results, '--engine', 'tfjs']);
    expect(res.code).toBe(0);
    const rows = parseCsv(fs.readFileSync(path.join(results, 'test', 'metrics.csv'), 'utf8'));
    expect(rows[0]!.length).toBe(10);
    for (const r of rows) expect(r.length).toBe(10);
    expect(rows.map((r) => r[1])).toContain('x,y"z');
  });
});

/** RFC 4180: fields separated by commas, quoted fields may hold commas, CR/LF and doubled quotes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field), rows.push(row), (row = []), (field = '');
    } else field += c;
  }
  if (field || row.length) row.push(field), rows.push(row);
  return rows;
}

async function waitFor(condition: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

