#!/usr/bin/env node
// The benchmark harness: `npm run bench -- --help`. Suites live in tools/bench/suites/*.mjs (see
// tools/bench/README.md); each prints a table and writes bench-results/<suite>.json.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseBackendSpec, parseCli, USAGE } from './lib/cli.mjs';
import { createContext, importPackage, REPO_ROOT, runChild } from './lib/context.mjs';
import { formatTable, gitCommit, machineInfo, writeJsonAtomic } from './lib/report.mjs';

const SUITES_DIR = path.join(REPO_ROOT, 'tools/bench/suites');
const DEFAULT_BACKENDS = ['wasm', 'cpu'];

async function loadSuites() {
  const files = readdirSync(SUITES_DIR).filter((f) => f.endsWith('.mjs')).sort();
  const suites = [];
  for (const file of files) {
    const mod = await import(pathToFileURL(path.join(SUITES_DIR, file)).href);
    const suite = mod.default;
    if (!suite || typeof suite.name !== 'string' || typeof suite.run !== 'function') {
      throw new Error(`bench: ${file} must export default {name, run(ctx)} (see tools/bench/README.md)`);
    }
    suites.push(suite);
  }
  return suites;
}

function packageDir(name) {
  return ['packages', 'apps'].map((d) => path.join(REPO_ROOT, d, name)).find((d) => existsSync(d));
}

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/** Suites run the built packages; say so plainly when a build is missing or older than its sources. */
function checkBuilt(names) {
  for (const name of names) {
    const dir = packageDir(name);
    if (!dir) throw new Error(`bench: no package "${name}" under packages/ or apps/`);
    const entry = path.join(dir, 'dist/index.mjs');
    if (!existsSync(entry)) throw new Error(`bench: @srdiff/${name} is not built; run "npm run build" first (or pass --build)`);
    if (newestMtime(path.join(dir, 'src')) > statSync(entry).mtimeMs) {
      console.error(`bench: warning: @srdiff/${name}'s dist is older than its src; results are for the old build (run "npm run build" or pass --build)`);
    }
  }
}

function build(names) {
  for (const name of names) {
    console.error(`bench: building @srdiff/${name}`);
    execFileSync('npm', ['run', 'build', '-w', `@srdiff/${name}`], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  }
}

function orderRows(rows, backendOrder) {
  const firstSeen = (key) => {
    const seen = new Map();
    rows.forEach((r) => seen.has(r[key]) || seen.set(r[key], seen.size));
    return seen;
  };
  const cases = firstSeen('case');
  const ops = firstSeen('op');
  const impls = firstSeen('impl');
  const backend = (r) => (backendOrder.indexOf(r.backend) + 1 || backendOrder.length + 1);
  return [...rows].sort((a, b) => cases.get(a.case) - cases.get(b.case) || ops.get(a.op) - ops.get(b.op) || backend(a) - backend(b) || impls.get(a.impl) - impls.get(b.impl));
}

async function main() {
  const opts = parseCli(process.argv.slice(2));
  if (opts.help) {
    process.stdout.write(USAGE);
    return;
  }
  const all = await loadSuites();
  if (opts.list) {
    for (const s of all) console.log(`${s.name.padEnd(12)} ${s.description ?? ''}`);
    return;
  }
  const selected = opts.suites
    ? opts.suites.map((name) => all.find((s) => s.name === name) ?? fail(`bench: unknown suite "${name}"; available: ${all.map((s) => s.name).join(', ')}`))
    : all;
  const needed = [...new Set(selected.flatMap((s) => s.requires ?? ['core']))];
  if (opts.build && !opts.child) build(needed);
  if (!opts.child) checkBuilt(needed);

  const core = await importPackage('core');
  if (opts.child) {
    // A child runs one wasm thread count, fixed before the backend starts.
    const wasm = (opts.backends ?? []).find((b) => b.name === 'wasm');
    if (wasm && wasm.threads > 1) core.configureWasmThreads(wasm.threads);
  }

  for (const suite of selected) {
    const backends = opts.backends ?? (suite.backends ?? DEFAULT_BACKENDS).map(parseBackendSpec);
    const inProcess = opts.child ? backends : backends.filter((b) => b.threads === 1);
    const ownProcess = opts.child ? [] : backends.filter((b) => b.threads > 1);
    const rows = [];
    const startedAt = new Date().toISOString();
    const loadBefore = os.loadavg();
    if (!opts.child) console.error(`bench: ${suite.name} on ${backends.map((b) => b.spec).join(', ')} (${opts.repeat} runs each${opts.quick ? ', quick' : ''})`);
    if (inProcess.length) await suite.run(createContext({ suite, backends: inProcess, options: opts, core, rows }));
    for (const backend of ownProcess) {
      const result = await runChild({ suite: suite.name, backend, only: opts.only, repeat: opts.repeat, quick: opts.quick });
      rows.push(...result.rows);
    }
    if (opts.child) {
      writeJsonAtomic(opts.child, { rows });
      continue;
    }
    const ordered = orderRows(rows, backends.map((b) => b.spec));
    console.log(`\n${suite.name}${suite.description ? ` — ${suite.description}` : ''}\n`);
    console.log(formatTable(ordered));
    const summary = suite.summarize?.(ordered) ?? [];
    if (summary.length) console.log(`\n${summary.join('\n')}`);
    const loadAfter = os.loadavg();
    console.log(`\nload average ${loadBefore[0].toFixed(2)} → ${loadAfter[0].toFixed(2)} on ${os.cpus().length} logical CPUs (other processes slow the numbers down)`);
    const file = path.resolve(REPO_ROOT, opts.outDir, `${suite.name}.json`);
    writeJsonAtomic(file, {
      suite: suite.name,
      description: suite.description,
      startedAt,
      finishedAt: new Date().toISOString(),
      commit: gitCommit(REPO_ROOT),
      machine: { ...machineInfo(), loadAverage1mBefore: loadBefore[0], loadAverage1mAfter: loadAfter[0] },
      options: { backends: backends.map((b) => b.spec), repeat: opts.repeat, quick: opts.quick, only: opts.only ?? null },
      rows: ordered,
      summary,
    });
    console.log(`wrote ${path.relative(process.cwd(), file)}`);
  }
}

function fail(message) {
  throw new Error(message);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
