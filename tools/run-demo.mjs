#!/usr/bin/env node
// `npm run demo`: makes sure the packages are built (JavaScript only — type declarations are not
// needed to run, and skipping them keeps a fresh clone's first demo quick), then runs `srdiff demo`
// with any extra arguments (`npm run demo -- --minutes 5`).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// Dependency order: every package after the ones it imports.
const ORDER = ['packages/core', 'packages/metrics', 'packages/data', 'packages/sde', 'packages/vlm', 'packages/srm', 'packages/unet', 'apps/trainer'];

function newestMtime(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

for (const rel of ORDER) {
  const dir = path.join(root, rel);
  const built = path.join(dir, 'dist', 'index.js');
  if (fs.existsSync(built) && fs.statSync(built).mtimeMs >= newestMtime(path.join(dir, 'src'))) continue;
  process.stderr.write(`building ${rel} …\n`);
  const r = spawnSync(process.execPath, [path.join(root, 'node_modules', 'tsup', 'dist', 'cli-default.js'), '--no-dts', '--silent'], { cwd: dir, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const cli = path.join(root, 'apps', 'trainer', 'dist', 'cli.js');
const r = spawnSync(process.execPath, [cli, 'demo', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
