import { parseArgs, type ParseArgsConfig } from 'node:util';
import { bundledCleanImagesDir } from '../assets';
import { discoverDataset, type Phase } from '../dataset/discover';
import { buildDegradedDataset } from '../degrade/build-dataset';
import { DEGRADATION_TASKS, type DegradationTask } from '../degrade/index';
import { progressWriter, type ProgressStream } from './progress-writer';

export const DATA_CLI_USAGE = `srdiff-data — datasets for srdiff

Usage:
  srdiff-data synthesize --out DIR [--clean DIR] [--tasks hazy,low-light,rainy,motion-blurry]
                         [--per-image N] [--patch-size N] [--seed N] [--val-fraction F] [--overwrite]
      Degrade clean images (default: the bundled photos) into DIR/{train,val}/<task>/{LQ,GT}.
  srdiff-data inspect ROOT [--phase train|val] [--skip-invalid]
      Check a dataset's pairing (names, partners, sizes, embeddings) and count its pairs.
  srdiff-data help [COMMAND]     srdiff-data --version
`;

/** A mistake in the command line: reported with the usage, exit status 2. */
export class DataUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataUsageError';
  }
}

export interface DataCliIo {
  /** Results (stdout). */
  out: (line: string) => void;
  /** Errors and progress (stderr). */
  err: ProgressStream;
  version: string;
}

function intOption(value: string | undefined, name: string, min?: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || (min !== undefined && n < min)) {
    throw new DataUsageError(`--${name} must be an integer${min !== undefined ? ` ≥ ${min}` : ''}, got "${value}"`);
  }
  return n;
}

function fractionOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !(n >= 0 && n < 1)) throw new DataUsageError(`--${name} must be a number in [0, 1), got "${value}"`);
  return n;
}

/** node:util's parseArgs, with its errors (unknown option, missing value, extra positional) as usage errors. */
function parse<const T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    throw new DataUsageError((err as Error).message);
  }
}

async function synthesize(argv: string[], io: DataCliIo): Promise<void> {
  const { values } = parse({
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
  if (!values.out) throw new DataUsageError('synthesize: --out DIR is required');
  const tasks = values.tasks?.split(',').map((t) => t.trim()).filter(Boolean) as DegradationTask[] | undefined;
  const bad = tasks?.find((t) => !DEGRADATION_TASKS.includes(t));
  if (bad) throw new DataUsageError(`--tasks: unknown task "${bad}"; expected ${DEGRADATION_TASKS.join(', ')}`);
  const options = {
    tasks,
    perImage: intOption(values['per-image'], 'per-image', 1),
    patchSize: intOption(values['patch-size'], 'patch-size', 1),
    seed: intOption(values.seed, 'seed'),
    valFraction: fractionOption(values['val-fraction'], 'val-fraction'),
    overwrite: values.overwrite,
  };
  const cleanDir = values.clean ?? bundledCleanImagesDir();
  const started = Date.now();
  const progress = progressWriter(io.err, 'pairs');
  const result = await buildDegradedDataset(cleanDir, values.out, {
    ...options,
    onProgress: ({ done, total }) => {
      if (done === total || done % 10 === 0) progress.update(done, total);
    },
  }).finally(() => progress.end());
  io.out(`wrote ${result.pairs} pairs to ${result.outDir} in ${((Date.now() - started) / 1000).toFixed(1)} s (from ${cleanDir})`);
  io.out('task            train  val   PSNR LQ vs GT (dB): mean  [min, max]');
  for (const task of Object.keys(result.psnr)) {
    const s = result.psnr[task]!;
    io.out(`${task.padEnd(15)} ${String(result.counts.train[task] ?? 0).padStart(5)} ${String(result.counts.val[task] ?? 0).padStart(4)}   ${s.mean.toFixed(2).padStart(6)}  [${s.min.toFixed(2)}, ${s.max.toFixed(2)}]`);
  }
  io.out(`manifest: ${result.manifest}`);
}

async function inspect(argv: string[], io: DataCliIo): Promise<void> {
  const { values, positionals } = parse({ args: argv, allowPositionals: true, options: { phase: { type: 'string' }, 'skip-invalid': { type: 'boolean' } } });
  if (positionals.length === 0) throw new DataUsageError('inspect: ROOT is required');
  if (positionals.length > 1) throw new DataUsageError(`inspect takes one ROOT, got ${positionals.map((p) => `"${p}"`).join(' ')}`);
  const phases: Phase[] = values.phase ? [values.phase as Phase] : ['train', 'val'];
  for (const phase of phases) if (phase !== 'train' && phase !== 'val') throw new DataUsageError(`--phase must be train or val, got "${phase}"`);
  for (const phase of phases) {
    const index = await discoverDataset({ root: positionals[0]!, phase }, { onInvalid: values['skip-invalid'] ? 'skip' : 'error' });
    const perTask = new Map<string, number>();
    for (const p of index.pairs) perTask.set(p.task, (perTask.get(p.task) ?? 0) + 1);
    io.out(`${phase}: ${index.pairs.length} pairs (${[...perTask].map(([t, n]) => `${t} ${n}`).join(', ')}), embeddings: ${index.embeddings ?? 'none'}${index.skipped.length ? `, skipped ${index.skipped.length}` : ''}`);
  }
}

const COMMANDS: Record<string, (argv: string[], io: DataCliIo) => Promise<void>> = { synthesize, inspect };

/**
 * Runs `srdiff-data` and resolves to its exit status: 0 done, 1 failed (a bad dataset, an
 * unreadable image), 2 a usage error (unknown command or option, a bad or missing value).
 */
export async function runDataCli(argv: string[], io: DataCliIo): Promise<number> {
  const [command, ...rest] = argv;
  const fail = (message: string, code: number) => {
    io.err.write(`srdiff-data: ${message}\n`);
    return code;
  };
  if (!command) return fail(`a command is required\n\n${DATA_CLI_USAGE}`, 2);
  if (command === '--help' || command === '-h' || (command === 'help' && rest.length <= 1 && (!rest[0] || rest[0] in COMMANDS))) {
    io.out(DATA_CLI_USAGE);
    return 0;
  }
  if (command === '--version' || command === '-V') {
    io.out(io.version);
    return 0;
  }
  const run = COMMANDS[command];
  if (!run) return fail(`unknown ${command === 'help' ? `help topic "${rest.join(' ')}"` : `command "${command}"`}\n\n${DATA_CLI_USAGE}`, 2);
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(DATA_CLI_USAGE);
    return 0;
  }
  try {
    await run(rest, io);
    return 0;
  } catch (err) {
    return err instanceof DataUsageError ? fail(`${command}: ${err.message} (see srdiff-data --help)`, 2) : fail((err as Error).message, 1);
  }
}
