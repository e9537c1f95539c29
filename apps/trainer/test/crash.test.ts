/**
 * Crash test: a real `srdiff train` (the built CLI) is killed with SIGKILL at random moments —
 * during start-up, mid-step, mid-checkpoint — and resumed each time, 20 times (within a time
 * bound). The run must end with exactly the weights of an uninterrupted run, every step logged
 * once, and no temporary file left anywhere in the run folder. Tiny network, a few dozen steps.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { Rng, readSafetensors } from '@srdiff/core';
import { checkpointNames, exited, spawnCli, temporaries, tinyDataset, tinyRawOptions } from './helpers/tiny-run';

const KILLS = 20;
/** Give up killing after this long (the resumed run then finishes on its own): bounds the test on a slow machine. */
const LOOP_SECONDS = 75;
const NITER = 40;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'srdiff-crash-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function optionsFile(name: string, data: string): { file: string; run: string } {
  const run = path.join(tmp, name);
  const raw = tinyRawOptions(data, run) as Record<string, Record<string, unknown>>;
  const options = {
    ...raw,
    // EMA from step 2, updated every step: its state has to survive the kills too.
    train: { ...raw.train, niter: NITER, ema_update_after_step: 2, ema_update_every: 1 },
    logger: { print_freq: 1, save_checkpoint_freq: 2 },
  };
  const file = path.join(tmp, `${name}.yml`);
  fs.writeFileSync(file, yaml.dump(options));
  return { file, run };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The highest training step in a run's metrics.jsonl (0 when none; a torn last line is ignored). */
function loggedStep(run: string): number {
  const file = path.join(run, 'metrics.jsonl');
  if (!fs.existsSync(file)) return 0;
  let step = 0;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    try {
      const r = JSON.parse(line) as { type?: string; step?: number };
      if (r.type === 'train' && typeof r.step === 'number') step = Math.max(step, r.step);
    } catch {
      /* torn or empty line */
    }
  }
  return step;
}

/** When the child printed its start line (training begins right after it). */
function trainingStarted(child: ReturnType<typeof spawnCli>): Promise<number> {
  return new Promise((resolve) => {
    let text = '';
    child.stderr!.on('data', (d) => {
      text += d;
      if (/^train: .* in /m.test(text)) resolve(Date.now());
    });
  });
}

async function weights(run: string, which: 'G' | 'EMA') {
  return (await readSafetensors(path.join(run, 'models', `last_${which}.safetensors`))).tensors;
}

test(`${KILLS} random kill -9 and resumes end with the weights of an uninterrupted run, every step logged once, no temporary file`, async () => {
  const data = await tinyDataset(path.join(tmp, 'data'));
  const reference = optionsFile('reference', data);
  const t0 = Date.now();
  const child0 = spawnCli(['train', '-opt', reference.file, '--quiet']);
  const started0 = trainingStarted(child0);
  const whole = await exited(child0);
  expect(whole.code).toBe(0);
  // One kill in four lands at a random moment of start-up (loading, options.yml, trimming the
  // metrics); the others 1–3 steps past the furthest step logged so far, at a random moment within
  // a step (its computation, the log append, a checkpoint write or a prune): the kills spread over
  // the whole run and every resume makes progress, whatever this machine's speed.
  const startup = (await started0) - t0;
  const stepMs = (Date.now() - (await started0)) / NITER;
  const crashed = optionsFile('crashed', data);
  const logged = () => loggedStep(crashed.run);
  const seed = Number(process.env.SRDIFF_CRASH_SEED ?? Date.now() % 100000);
  const rng = new Rng(seed);
  const deadline = Date.now() + LOOP_SECONDS * 1000;
  let kills = 0;
  let finishedEarly = false;
  while (kills < KILLS && Date.now() < deadline) {
    const target = logged() + 1 + Math.floor(rng.uniform() * 3);
    const child = spawnCli(['train', '-opt', crashed.file, '--quiet', ...(kills ? ['--resume'] : [])]);
    const done = exited(child);
    let running = true;
    void done.then(() => (running = false));
    const inStartup = rng.uniform() < 0.25;
    const moment = inStartup
      ? sleep(rng.uniform() * startup)
      : (async () => {
          while (running && logged() < target) await sleep(5);
          await sleep(rng.uniform() * stepMs);
        })();
    const outcome: { exited?: Awaited<typeof done> } = await Promise.race([done.then((r) => ({ exited: r })), moment.then(() => ({}))]);
    if (outcome.exited) {
      expect(outcome.exited.code).toBe(0);
      finishedEarly = true;
      break;
    }
    child.kill('SIGKILL');
    const end = await done;
    if (end.signal !== 'SIGKILL') {
      // It finished between the timer and the kill.
      expect(end.code).toBe(0);
      finishedEarly = true;
      break;
    }
    kills += 1;
  }
  const last = await exited(spawnCli(['train', '-opt', crashed.file, '--quiet', '--resume']));
  expect(last.code).toBe(0);
  // The loop ends at KILLS kills, unless the run finished or the time bound passed first; too few
  // kills would prove little.
  if (kills < 10) throw new Error(`only ${kills} of ${KILLS} kills landed (finished early: ${finishedEarly}; SRDIFF_CRASH_SEED=${seed} repeats the moments)`);

  for (const which of ['G', 'EMA'] as const) {
    const [a, b] = await Promise.all([weights(reference.run, which), weights(crashed.run, which)]);
    expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
    const differing = Object.keys(a).filter((k) => Buffer.compare(Buffer.from(a[k]!.data.buffer, a[k]!.data.byteOffset, a[k]!.data.byteLength), Buffer.from(b[k]!.data.buffer, b[k]!.data.byteOffset, b[k]!.data.byteLength)) !== 0);
    expect({ which, differing }).toEqual({ which, differing: [] });
  }
  const steps = fs.readFileSync(path.join(crashed.run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.type === 'train').map((r) => r.step);
  expect(steps).toEqual(Array.from({ length: NITER }, (_, i) => i + 1));
  expect(temporaries(crashed.run)).toEqual([]);
  expect(checkpointNames(crashed.run).length).toBeLessThanOrEqual(3);
  expect(checkpointNames(crashed.run)).toContain(`step-000000${NITER}.ckpt`);
}, 240_000);
