#!/usr/bin/env node
// `npm run demo`: makes sure the packages are built (JavaScript only — type declarations are not
// needed to run, and skipping them keeps a fresh clone's first demo quick), then runs `srdiff demo`
// with any extra arguments (`npm run demo -- --minutes 5`).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

const { ensureBuilt, root } = createRequire(import.meta.url)('./ensure-built.cjs');
ensureBuilt('apps/trainer', 'demo');

const cli = path.join(root, 'apps', 'trainer', 'dist', 'cli.js');
const r = spawnSync(process.execPath, [cli, 'demo', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
