/**
 * `srdiff-data`'s command line: usage errors exit 2 (naming the problem), failures 1, and progress
 * off a terminal is whole lines, not `\r`-glued updates.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DATA_CLI_USAGE, runDataCli } from '../src/cli/run-data-cli';
import { progressWriter } from '../src/cli/progress-writer';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'srdiff-data-cli-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function run(args: string[], isTTY = false): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runDataCli(args, { out: (l) => (out += `${l}\n`), err: { isTTY, write: (t: string) => (err += t) }, version: '9.9.9' });
  return { code, out, err };
}

describe('srdiff-data usage errors exit 2', () => {
  test.each([
    [[], /a command is required/],
    [['synth'], /unknown command "synth"/],
    [['help', 'synth'], /unknown help topic "synth"/],
    [['synthesize'], /synthesize: --out DIR is required/],
    [['synthesize', '--out', 'x', '--per-image', '0'], /--per-image must be an integer ≥ 1, got "0"/],
    [['synthesize', '--out', 'x', '--patch-size', '3.5'], /--patch-size must be an integer ≥ 1, got "3.5"/],
    [['synthesize', '--out', 'x', '--val-fraction', '1'], /--val-fraction must be a number in \[0, 1\), got "1"/],
    [['synthesize', '--out', 'x', '--tasks', 'snowy'], /--tasks: unknown task "snowy"/],
    [['synthesize', '--out', 'x', '--bogus'], /Unknown option '--bogus'/],
    [['synthesize', '--out', 'x', 'extra'], /Unexpected argument 'extra'/],
    [['inspect'], /inspect: ROOT is required/],
    [['inspect', 'a', 'b'], /inspect takes one ROOT, got "a" "b"/],
    [['inspect', 'a', '--phase', 'test'], /--phase must be train or val, got "test"/],
  ])('%j', async (args, message) => {
    const r = await run(args);
    expect(r.err).toMatch(message);
    expect(r.code).toBe(2);
    expect(fs.existsSync('x')).toBe(false);
  });

  test('help and version exit 0 on stdout', async () => {
    for (const args of [['--help'], ['help'], ['help', 'inspect'], ['inspect', '--help']]) expect(await run(args)).toEqual({ code: 0, out: `${DATA_CLI_USAGE}\n`, err: '' });
    expect(await run(['-V'])).toEqual({ code: 0, out: '9.9.9\n', err: '' });
  });

  test('a dataset that is not there is a failure (exit 1), not a usage error', async () => {
    const r = await run(['inspect', path.join(tmp, 'none')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/none/);
  });
});

describe('progress', () => {
  test('off a terminal every update is a whole line', async () => {
    const r = await run(['synthesize', '--out', path.join(tmp, 'ds'), '--tasks', 'hazy', '--patch-size', '16', '--per-image', '4']);
    expect(r.code).toBe(0);
    expect(r.err).not.toContain('\r');
    const lines = r.err.trim().split('\n');
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines) expect(line).toMatch(/^\d+\/\d+ pairs$/);
    expect(lines[lines.length - 1]).toMatch(/^(\d+)\/\1 pairs$/);
    expect(r.out).toMatch(/wrote \d+ pairs to /);
  });

  test('on a terminal one line is redrawn, then ended', () => {
    let text = '';
    const ci = process.env.CI;
    delete process.env.CI;
    try {
      const p = progressWriter({ isTTY: true, write: (t: string) => (text += t) }, 'pairs');
      p.update(10, 20);
      p.update(20, 20);
      p.end();
    } finally {
      if (ci !== undefined) process.env.CI = ci;
    }
    expect(text).toBe('\r10/20 pairs\r20/20 pairs\n');
  });
});
