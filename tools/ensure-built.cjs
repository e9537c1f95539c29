// Builds the workspace packages whose dist/ is missing or older than their src/ (JavaScript only:
// type declarations are not needed to run, and skipping them keeps a fresh clone's first run
// quick). Used by `npm run demo` and by the `srdiff` / `srdiff-data` bin shims when they run from
// a clone of the repository, so `npm ci && npx srdiff --help` works before any `npm run build`.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
/** Dependency order: every package after the ones it imports. */
const ORDER = ['packages/core', 'packages/metrics', 'packages/data', 'packages/sde', 'packages/vlm', 'packages/srm', 'packages/unet', 'apps/trainer'];

function newestMtime(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

/** The packages (relative folders) that `target` needs, itself last; ORDER's prefix is a superset in dependency order. */
function needed(target) {
  const at = ORDER.indexOf(target);
  if (at < 0) throw new Error(`ensure-built: unknown package folder ${target}`);
  return ORDER.slice(0, at + 1);
}

/**
 * Builds what `target` (e.g. 'apps/trainer') needs, writing progress to stderr (stdout stays the
 * caller's). Exits the process with the build's status when a build fails.
 */
function ensureBuilt(target, who = 'srdiff') {
  const tsup = path.join(root, 'node_modules', 'tsup', 'dist', 'cli-default.js');
  for (const rel of needed(target)) {
    const dir = path.join(root, rel);
    const built = path.join(dir, 'dist', 'index.js');
    if (fs.existsSync(built) && fs.statSync(built).mtimeMs >= newestMtime(path.join(dir, 'src'))) continue;
    if (!fs.existsSync(tsup)) {
      process.stderr.write(`${who}: ${rel} is not built and tsup is not installed: run \`npm ci\` in ${root}, then \`npm run build\`.\n`);
      process.exit(1);
    }
    process.stderr.write(`${who}: building ${rel} (first run, or its sources changed) …\n`);
    let r = spawnSync(process.execPath, [tsup, '--no-dts', '--silent'], { cwd: dir, stdio: ['ignore', 2, 2] });
    // The browser entry (dist/index.browser.mjs) is a second build, after the one that cleans dist/.
    if (r.status === 0 && fs.existsSync(path.join(dir, 'tsup.browser.config.ts'))) {
      r = spawnSync(process.execPath, [tsup, '--config', 'tsup.browser.config.ts', '--no-dts', '--silent'], { cwd: dir, stdio: ['ignore', 2, 2] });
    }
    if (r.status !== 0) {
      process.stderr.write(`${who}: building ${rel} failed (exit ${r.status ?? r.signal}); \`npm run build\` shows the errors.\n`);
      process.exit(r.status ?? 1);
    }
  }
}

module.exports = { ensureBuilt, ORDER, root };
