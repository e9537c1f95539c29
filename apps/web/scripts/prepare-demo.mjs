#!/usr/bin/env node
// Before `vite build`: public/models/demo (the bundled demo model, by `srdiff export --web`) and
// public/samples/hazy.png (a hazy crop of a bundled photo, made by @srdiff/data's haze model).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportDemo, makeDemoRun, WORKSPACE } from './demo-model.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const publicDir = path.join(here, '..', 'public');

/** A crop of a bundled photo, degraded with haze (seeded), as an 8-bit PNG. */
export async function writeSample(file, { photo = 'chelsea.png', x = 120, y = 40, width = 96, height = 64, seed = 3 } = {}) {
  const data = await import('@srdiff/data');
  const image = await data.readImage(path.join(WORKSPACE, 'packages/data/assets/clean', photo));
  const [, h, w] = image.shape;
  if (x + width > w || y + height > h) throw new Error(`${photo} is ${w}×${h}; the crop ${width}×${height} at ${x},${y} does not fit`);
  const crop = new Float32Array(width * height * 3);
  for (let r = 0; r < height; r++) crop.set(image.data.subarray(((y + r) * w + x) * 3, ((y + r) * w + x + width) * 3), r * width * 3);
  const hazy = data.degrade('hazy', { shape: [1, height, width, 3], data: crop }, seed);
  await data.writeImage(file, hazy.image);
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'srdiff-web-demo-'));
  try {
    const { dir, recipe } = makeDemoRun(path.join(tmp, 'run'));
    const out = path.join(publicDir, 'models', 'demo');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    process.stdout.write(exportDemo(dir, out, recipe));
    fs.mkdirSync(path.join(publicDir, 'samples'), { recursive: true });
    await writeSample(path.join(publicDir, 'samples', 'hazy.png'));
    console.log(`sample → ${path.relative(process.cwd(), path.join(publicDir, 'samples', 'hazy.png'))}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (path.resolve(process.argv[1] ?? '') === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err.stack ?? err);
    process.exitCode = 1;
  });
}
