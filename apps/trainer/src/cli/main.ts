import { version as VERSION } from '../../package.json';
import { formatHelp, parseArgs, UsageError } from './args';
import type { Command, CommandContext } from './command';
import { OptionsError } from '../options/schema';
import { COMMANDS } from '../commands';

/** The CLI's version: @srdiff/trainer's (the build inlines it from package.json). */
export const CLI_VERSION: string = VERSION;

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.spec.name.length));
  return [
    `srdiff ${VERSION} — SR-Diff image restoration (semantic-guided IR-SDE diffusion)`,
    '',
    'Usage: srdiff <command> [options]     (srdiff help <command>, or srdiff <command> --help, for its options)',
    '       srdiff --version',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.spec.name.padEnd(width)}  ${c.spec.summary}`),
    '',
    'The two-stage pipeline: extract → train-srm → refine → train → test / restore.',
    'Environment: SRDIFF_BACKEND=auto|tensorflow|wasm|cpu picks the TensorFlow.js engine; SRDIFF_WASM_THREADS=N runs wasm on N threads',
    '(measured here: 2 threads speed up large single convolutions but slow the training step down 2x).',
  ].join('\n');
}

/**
 * Runs the CLI and resolves to an exit code: 0 success, 1 failure (a verify mismatch, training
 * stopped on NaN), 2 usage or options errors, 130 interrupted.
 */
export async function runCli(argv: string[], io: { out?: (s: string) => void; log?: (s: string) => void } = {}): Promise<number> {
  const out = io.out ?? ((s: string) => process.stdout.write(`${s}\n`));
  const log = io.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  const [name, ...rest] = argv;
  if (!name) {
    log(overview());
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    if (name !== 'help' || rest.length === 0) {
      out(overview());
      return 0;
    }
    const [topic, ...extra] = rest;
    const command = COMMANDS.find((c) => c.spec.name === topic);
    if (!command || extra.length) {
      log(!command ? `srdiff help: unknown command "${topic}"\n\n${overview()}` : `srdiff help: takes one command name, got ${rest.map((r) => `"${r}"`).join(' ')}`);
      return 2;
    }
    out(formatHelp(command.spec));
    return 0;
  }
  if (name === '--version' || name === '-V' || name === '-v') {
    out(VERSION);
    return 0;
  }
  const command: Command | undefined = COMMANDS.find((c) => c.spec.name === name);
  if (!command) {
    log(`srdiff: unknown ${name.startsWith('-') ? 'option' : 'command'} "${name}"\n\n${overview()}`);
    return 2;
  }
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts += 1;
    if (interrupts === 1) {
      log('\nInterrupted: finishing the current step and saving (press Ctrl-C again to quit at once).');
      controller.abort(new Error('interrupted'));
    } else {
      process.exit(130);
    }
  };
  // A closed terminal (SSH dropped) sends SIGHUP: stop and save as for Ctrl-C. Writing to the
  // vanished terminal then fails (EIO/EPIPE); those errors must not kill the process mid-save.
  const onSighup = () => {
    for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
    onSigint();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  process.on('SIGHUP', onSighup);
  try {
    const parsed = parseArgs(command.spec, rest);
    if (parsed.help) {
      out(formatHelp(command.spec));
      return 0;
    }
    const ctx: CommandContext = { options: parsed.options, positionals: parsed.positionals, out, log, signal: controller.signal };
    const code = await command.run(ctx);
    return controller.signal.aborted && code === 0 ? 130 : code;
  } catch (err) {
    if (err instanceof UsageError || err instanceof OptionsError) {
      log(`srdiff ${name}: ${err.message}`);
      return 2;
    }
    if (controller.signal.aborted) {
      // The command stopped because it was interrupted (what it had finished is saved): 130, as documented.
      log(`srdiff ${name}: interrupted (${(err as Error).message})`);
      return 130;
    }
    log(`srdiff ${name}: ${(err as Error).message}`);
    if (process.env.SRDIFF_DEBUG) log((err as Error).stack ?? '');
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    process.off('SIGHUP', onSighup);
  }
}
