/**
 * `srdiff verify` over a reference folder assembled from the packages' own fixtures (copies of the
 * original PyTorch vectors), and on a tampered copy, which must fail.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readSafetensors, writeSafetensors } from '@srdiff/core';
import { runCli } from '../src/cli/main';

const PACKAGES = path.join(__dirname, '..', '..', '..', 'packages');
const SOURCES: Record<string, string> = {
  sde: 'sde/test/fixtures/sde',
  srm: 'srm/test/fixtures/srm',
  unet: 'unet/test/fixtures/unet',
  metrics: 'metrics/test/fixtures/metrics',
  'tiny-clip': 'vlm/test/fixtures/tiny-clip',
  'tiny-blip': 'vlm/test/fixtures/tiny-blip',
};
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'srdiff-verify-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function assemble(dir: string, copy: string[] = []): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, rel] of Object.entries(SOURCES)) {
    const src = path.join(PACKAGES, rel);
    if (copy.includes(name)) fs.cpSync(src, path.join(dir, name), { recursive: true });
    else fs.symlinkSync(src, path.join(dir, name));
  }
}

test('every case of the reference passes and the summary counts them', async () => {
  const ref = path.join(tmp, 'ok');
  assemble(ref);
  const lines: string[] = [];
  const code = await runCli(['verify', '--reference', ref, '--json', path.join(tmp, 'rows.json')], { out: (s) => lines.push(s), log: () => undefined });
  const text = lines.join('\n');
  expect(code).toBe(0);
  for (const c of ['sde', 'srm', 'unet', 'srm \\(onnx\\)', 'unet \\(onnx\\)', 'metrics', 'tiny-clip/rgb_50x40', 'tiny-blip/rgb_wide_57x23', 'tiny-blip/gray_29x29']) expect(text).toMatch(new RegExp(`^${c.replace('/', '\\/')}\\s.*pass$`, 'm'));
  const rows = JSON.parse(fs.readFileSync(path.join(tmp, 'rows.json'), 'utf8'));
  expect(rows.length).toBeGreaterThan(300);
  expect(text).toMatch(new RegExp(`^${rows.length} passed, 0 failed$`, 'm'));
});

test('a tampered reference fails with a non-zero exit and names the key', async () => {
  const ref = path.join(tmp, 'bad');
  assemble(ref, ['unet']);
  const io = await readSafetensors(path.join(ref, 'unet', 'io.safetensors'));
  io.tensors.out!.data[5] += 0.01;
  await writeSafetensors(path.join(ref, 'unet', 'io.safetensors'), io.tensors);
  const lines: string[] = [];
  const code = await runCli(['verify', '--reference', ref, '--cases', 'unet'], { out: (s) => lines.push(s), log: () => undefined });
  expect(code).toBe(1);
  expect(lines.join('\n')).toMatch(/^unet\s+io\.safetensors:out\s.*FAIL$/m);
});

test('a BLIP reference set under another name runs as a BLIP case; a tampered embedding fails', async () => {
  const ref = path.join(tmp, 'blip');
  fs.mkdirSync(ref, { recursive: true });
  fs.cpSync(path.join(PACKAGES, SOURCES['tiny-blip']!), path.join(ref, 'blip-other'), { recursive: true });
  const lines: string[] = [];
  expect(await runCli(['verify', '--reference', ref, '--cases', 'tiny-blip', '--all'], { out: (s) => lines.push(s), log: () => undefined })).toBe(0);
  expect(lines.join('\n')).toMatch(/^blip-other\/rgb_wide_57x23\s+cls_embedding \(fast\)\s.*pass$/m);

  const file = path.join(ref, 'blip-other', 'expected.json');
  const expected = JSON.parse(fs.readFileSync(file, 'utf8'));
  expected.images[2].cls_embedding_slow.data[3] += 1e-3;
  fs.writeFileSync(file, JSON.stringify(expected));
  const bad: string[] = [];
  expect(await runCli(['verify', '--reference', path.join(ref, 'blip-other')], { out: (s) => bad.push(s), log: () => undefined })).toBe(1);
  expect(bad.join('\n')).toMatch(/^blip-other\/gray_29x29\s+cls_embedding \(slow\)\s.*FAIL$/m);
});
