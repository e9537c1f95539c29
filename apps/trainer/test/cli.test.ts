/**
 * The CLI's conventions, for every command: usage errors exit 2 and say what is wrong; extra
 * positionals are rejected; `srdiff help <cmd>`, `-V`; every flag value is checked, by the flag's
 * name, before a command loads anything (the model paths below do not exist, so a command that
 * got as far as loading would fail differently, with exit 1).
 */
import fs from 'node:fs';
import path from 'node:path';
import { formatHelp, parseArgs, UsageError, type CommandSpec } from '../src/cli/args';
import { CLI_VERSION, runCli } from '../src/cli/main';
import { COMMANDS } from '../src/commands';
import { runInProcess as cli } from './helpers/cli-process';

const packageVersion = (JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
const NO_SUCH_MODEL = path.join(__dirname, 'no-such-model.safetensors');

describe('srdiff (no command), help, version', () => {
  test('no arguments: the overview on stderr (nothing on stdout), exit 2 (a usage error)', async () => {
    const out: string[] = [];
    const log: string[] = [];
    expect(await runCli([], { out: (s) => out.push(s), log: (s) => log.push(s) })).toBe(2);
    expect(out).toEqual([]);
    expect(log.join('\n')).toMatch(/^srdiff \S+ — SR-Diff/);
  });

  test('help / --help / -h: the overview, exit 0', async () => {
    for (const args of [['help'], ['--help'], ['-h']]) {
      const r = await cli(args);
      expect(r.code).toBe(0);
      expect(r.output).toMatch(/Commands:\n {2}extract/);
    }
  });

  test("help <command> shows that command's help (the same as <command> --help)", async () => {
    for (const { spec } of COMMANDS) {
      const viaHelp = await cli(['help', spec.name]);
      const viaFlag = await cli([spec.name, '--help']);
      expect(viaHelp.code).toBe(0);
      expect(viaHelp.output).toBe(formatHelp(spec));
      expect(viaFlag.output).toBe(viaHelp.output);
    }
    expect((await cli(['help', 'restor'])).code).toBe(2);
    expect((await cli(['help', 'restor'])).output).toMatch(/unknown command "restor"/);
    expect((await cli(['help', 'restore', 'extra'])).code).toBe(2);
  });

  test("-V, --version: package.json's version", async () => {
    expect(CLI_VERSION).toBe(packageVersion);
    for (const flag of ['-V', '--version']) expect(await cli([flag])).toEqual({ code: 0, output: packageVersion });
  });

  test('an unknown command or option: exit 2', async () => {
    expect((await cli(['trian'])).code).toBe(2);
    expect((await cli(['--verbose'])).output).toMatch(/unknown option "--verbose"/);
    const r = await cli(['train', '--nitre', '5']);
    expect(r).toMatchObject({ code: 2 });
    expect(r.output).toMatch(/unknown option "--nitre" for "train"/);
  });
});

describe('flag values are checked before anything loads', () => {
  test('every number flag of every command rejects a non-number, naming the flag, with exit 2', async () => {
    let checked = 0;
    for (const { spec } of COMMANDS) {
      for (const [name, opt] of Object.entries(spec.options)) {
        if (opt.type !== 'number') continue;
        const r = await cli([spec.name, ...(spec.positionals ?? []).map(() => 'in.png'), `--${name}`, 'lots']);
        expect([spec.name, name, r.code]).toEqual([spec.name, name, 2]);
        expect(r.output).toContain(`--${name} must be`);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  test.each([
    [['train', '--minutes', '-5'], '--minutes must be a number > 0, got "-5"'],
    [['train', '--minutes', '0'], '--minutes must be a number > 0, got "0"'],
    [['demo', '--minutes', '-1'], '--minutes must be a number > 0, got "-1"'],
    [['train', '--max-steps', '2.5'], '--max-steps must be an integer ≥ 1, got "2.5"'],
    [['restore', 'in.png', '--model', NO_SUCH_MODEL, '--steps', '0'], '--steps must be an integer ≥ 1, got "0"'],
    [['restore', 'in.png', '--model', NO_SUCH_MODEL, '--tile', '-64'], '--tile must be an integer ≥ 1, got "-64"'],
    [['restore', 'in.png', '--model', NO_SUCH_MODEL, '--overlap', '-1'], '--overlap must be an integer ≥ 0, got "-1"'],
    [['restore', 'in.png', '--model', NO_SUCH_MODEL, '--tile', '32', '--overlap', '32'], '--overlap (32) must be smaller than --tile (32)'],
    [['restore', 'in.png', '--model', NO_SUCH_MODEL, '--mode', 'ddim'], '--mode must be one of posterior, sde, ode; got "ddim"'],
    [['test', '--model', NO_SUCH_MODEL, '--best-of', '0'], '--best-of must be an integer ≥ 1, got "0"'],
    [['train-srm', '--data', 'd', '--out', 'o', '--lr', '0'], '--lr must be a number > 0, got "0"'],
    [['extract', '--data', 'd', '--batch-size', '0'], '--batch-size must be an integer ≥ 1, got "0"'],
    [['export'], 'nothing to export: pass --model and/or --srm'],
  ])('%j → exit 2: %s', async (args, message) => {
    const r = await cli(args);
    expect(r.output).toContain(message);
    expect(r.code).toBe(2);
  });
});

describe('positional arguments', () => {
  test('a command that takes none rejects any, naming it', async () => {
    const r = await cli(['train', 'train.yml']);
    expect(r.code).toBe(2);
    expect(r.output).toMatch(/unexpected argument "train\.yml": "srdiff train" takes no positional arguments \(options start with --\)/);
  });

  test('restore takes exactly one image or folder', async () => {
    const extra = await cli(['restore', 'a.png', 'b.png', '--model', NO_SUCH_MODEL]);
    expect(extra.code).toBe(2);
    expect(extra.output).toMatch(/unexpected argument "b\.png": "srdiff restore" takes 1: <image or folder>/);
    const none = await cli(['restore', '--model', NO_SUCH_MODEL]);
    expect(none.code).toBe(2);
    expect(none.output).toMatch(/missing <image or folder>; usage: srdiff restore/);
  });

  test('parseArgs: -- ends the options; what follows counts as positionals', () => {
    const spec: CommandSpec = { name: 'x', summary: '', usage: 'x <a>', positionals: ['a'], options: { n: { type: 'number', description: 'n' } } };
    expect(parseArgs(spec, ['--', '-weird-name.png']).positionals).toEqual(['-weird-name.png']);
    expect(() => parseArgs(spec, ['a', '--', 'b'])).toThrow(UsageError);
  });
});

describe('number flag declarations', () => {
  const spec: CommandSpec = {
    name: 'x', summary: '', usage: 'x',
    options: {
      steps: { type: 'number', description: 's', integer: true, min: 1 },
      rate: { type: 'number', description: 'r', greaterThan: 0, max: 1 },
      any: { type: 'number', description: 'a' },
    },
  };
  test('integer, min, greaterThan and max are enforced with a message that states them', () => {
    expect(parseArgs(spec, ['--steps', '3', '--rate', '1', '--any', '-7']).options).toEqual({ steps: 3, rate: 1, any: -7 });
    expect(() => parseArgs(spec, ['--steps', '1.5'])).toThrow('--steps must be an integer ≥ 1, got "1.5"');
    expect(() => parseArgs(spec, ['--rate', '0'])).toThrow('--rate must be a number > 0 and ≤ 1, got "0"');
    expect(() => parseArgs(spec, ['--rate', '1.01'])).toThrow('--rate must be a number > 0 and ≤ 1, got "1.01"');
    expect(() => parseArgs(spec, ['--any', 'NaN'])).toThrow('--any must be a number, got "NaN"');
  });
  test('help states the accepted range', () => {
    expect(formatHelp(spec)).toMatch(/--steps <number>\s+s \(an integer ≥ 1\)/);
  });
});

describe('hints name the flag of the command at hand', () => {
  test("restore's tiny-CLIP note says --vlm (its VLM flag), extract's says --model", async () => {
    const { SemanticContext } = await import('../src/pipeline/semantic-context');
    const { resolveVlmModel } = await import('../src/pipeline/models');
    const notes: string[] = [];
    const context = await SemanticContext.create({ vlm: 'tiny', offline: true, log: (s) => notes.push(s) });
    await context.dispose();
    expect(notes.join('\n')).toMatch(/pass --vlm Xenova\/clip-vit-base-patch32 for real use/);
    expect(resolveVlmModel('tiny').note).toMatch(/pass --model Xenova\/clip-vit-base-patch32/);
  });
});

/** `srdiff …` lines of the fenced shell blocks of a README (comments stripped, `npx` dropped). */
function readmeCommandLines(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const blocks = [...text.matchAll(/```(?:bash|sh|shell)\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks
    .flatMap((b) => b.split('\n'))
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => /^(npx )?srdiff /.test(l))
    .map((l) => l.replace(/^npx /, ''));
}

describe('documented command lines parse', () => {
  const repo = path.join(__dirname, '..', '..', '..');
  const documented = [
    ...readmeCommandLines(path.join(repo, 'README.md')).map((line) => ['README.md', line] as const),
    ...readmeCommandLines(path.join(__dirname, '..', 'README.md')).map((line) => ['apps/trainer/README.md', line] as const),
    ...COMMANDS.flatMap(({ spec }) => (spec.examples ?? []).filter((line) => line.startsWith('srdiff ')).map((line) => [`srdiff ${spec.name} --help`, line] as const)),
  ];
  test('there are some', () => expect(documented.length).toBeGreaterThan(15));
  test.each(documented)('%s: %s', (_where, line) => {
    const [, name, ...args] = line.replace(/\s+#.*$/, '').trim().split(/\s+/);
    if (name === '--help' || name === 'help') return;
    const command = COMMANDS.find((c) => c.spec.name === name);
    expect(command).toBeDefined();
    expect(() => parseArgs(command!.spec, args)).not.toThrow();
  });
});
