#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { bundledCleanImagesDir } from './assets';
import { discoverDataset, type Phase } from './dataset/discover';
import { buildDegradedDataset } from './degrade/build-dataset';
import { DEGRADATION_TASKS, type DegradationTask } from './degrade/index';

const USAGE = `srdiff-data — datasets for srdiff

Usage:
  srdiff-data synthesize --out DIR [--clean DIR] [--tasks hazy,low-light,rainy,motion-blurry]
                         [--per-image N] [--patch-size N] [--seed N] [--val-fraction F] [--overwrite]
      Degrade clean images (default: the bundled photos) into DIR/{train,val}/<task>/{LQ,GT}.
  srdiff-data inspect ROOT [--phase train|val] [--skip-invalid]
      Check a dataset's pairing (names, partners, sizes, embeddings) and count its pairs.
`;

function intOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new Error(`--${name}: expected an integer, got "${value}"`);
  return n;
}

async function synthesize(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      clean: { type: 'string' },
      tasks: { type: 'string' },
      'per-image': { type: 'string' },
      'patch-size': { type: 'string' },
      seed: { type: 'string' },
      'val-fraction': { type: 'string' },
      overwrite: { type: 'boolean' },
    },
  });
  if (!values.out) throw new Error('synthesize: --out DIR is required');
  const tasks = values.tasks?.split(',').map((t) => t.trim()).filter(Boolean) as DegradationTask[] | undefined;
  const bad = tasks?.find((t) => !DEGRADATION_TASKS.includes(t));
  if (bad) throw new Error(`--tasks: unknown task "${bad}"; expected ${DEGRADATION_TASKS.join(', ')}`);
  const valFraction = values['val-fraction'] === undefined ? undefined : Number(values['val-fraction']);
  const cleanDir = values.clean ?? bundledCleanImagesDir();
  const started = Date.now();
  const result = await buildDegradedDataset(cleanDir, values.out, {
    tasks,
    perImage: intOption(values['per-image'], 'per-image'),
    patchSize: intOption(values['patch-size'], 'patch-size'),
    seed: intOption(values.seed, 'seed'),
    valFraction,
    overwrite: values.overwrite,
    onProgress: ({ done, total }) => {
      if (done === total || done % 10 === 0) process.stderr.write(`\r${done}/${total} pairs`);
    },
  });
  process.stderr.write('\n');
  console.log(`wrote ${result.pairs} pairs to ${result.outDir} in ${((Date.now() - started) / 1000).toFixed(1)} s (from ${cleanDir})`);
  console.log('task            train  val   PSNR LQ vs GT (dB): mean  [min, max]');
  for (const task of Object.keys(result.psnr)) {
    const s = result.psnr[task]!;
    console.log(`${task.padEnd(15)} ${String(result.counts.train[task] ?? 0).padStart(5)} ${String(result.counts.val[task] ?? 0).padStart(4)}   ${s.mean.toFixed(2).padStart(6)}  [${s.min.toFixed(2)}, ${s.max.toFixed(2)}]`);
  }
  console.log(`manifest: ${result.manifest}`);
}

async function inspect(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { phase: { type: 'string' }, 'skip-invalid': { type: 'boolean' } } });
  const root = positionals[0];
  if (!root) throw new Error('inspect: ROOT is required');
  const phases: Phase[] = values.phase ? [values.phase as Phase] : ['train', 'val'];
  for (const phase of phases) {
    if (phase !== 'train' && phase !== 'val') throw new Error(`--phase: expected train or val, got "${phase}"`);
    const index = await discoverDataset({ root, phase }, { onInvalid: values['skip-invalid'] ? 'skip' : 'error' });
    const perTask = new Map<string, number>();
    for (const p of index.pairs) perTask.set(p.task, (perTask.get(p.task) ?? 0) + 1);
    console.log(`${phase}: ${index.pairs.length} pairs (${[...perTask].map(([t, n]) => `${t} ${n}`).join(', ')}), embeddings: ${index.embeddings ?? 'none'}${index.skipped.length ? `, skipped ${index.skipped.length}` : ''}`);
  }
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  if (command === 'synthesize') return synthesize(rest);
  if (command === 'inspect') return inspect(rest);
  throw new Error(`unknown command "${command}"\n\n${USAGE}`);
}

main().catch((err: Error) => {
  console.error(`srdiff-data: ${err.message}`);
  process.exit(1);
});
