/**
 * `srdiff demo` at its smallest (one task, a one-minute budget): every stage runs, the UNet is
 * fine-tuned for at least a few steps over the gradient threads, and the table and sheets appear.
 * ~1 minute; needs the built trainer (the gradient worker script).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../src/cli/main';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'srdiff-demo-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('demo --minutes 1 --tasks low-light prints the metrics table and writes the sheet', async () => {
  const out: string[] = [];
  const log: string[] = [];
  const code = await runCli(['demo', '--minutes', '1', '--tasks', 'low-light', '--out', tmp], { out: (s) => out.push(s), log: (s) => log.push(s) });
  expect(code).toBe(0);
  const text = out.join('\n');
  const row = text.split('\n').find((l) => l.startsWith('low-light'));
  expect(row).toBeDefined();
  const numbers = row!.trim().split(/\s+/).slice(1).map(Number);
  expect(numbers).toHaveLength(6); // images, PSNR LQ, PSNR restored, gain, SSIM LQ, SSIM restored
  expect(numbers.every(Number.isFinite)).toBe(true);
  expect(numbers[0]).toBe(2);
  const trained = /trained (\d+) steps/.exec(log.join('\n'));
  expect(Number(trained?.[1])).toBeGreaterThanOrEqual(5);
  expect(fs.existsSync(path.join(tmp, 'sheets', 'low-light.png'))).toBe(true);
}, 300_000);
