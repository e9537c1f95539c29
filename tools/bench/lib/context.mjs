import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { timeRuns } from './measure.mjs';

export const REPO_ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const RUN_SCRIPT = path.join(REPO_ROOT, 'tools/bench/run.mjs');

/** Imports a built workspace package (`packages/<name>/dist`, or `apps/<name>/dist`). */
export async function importPackage(name) {
  for (const dir of ['packages', 'apps']) {
    const entry = path.join(REPO_ROOT, dir, name, 'dist/index.mjs');
    if (existsSync(entry)) return import(pathToFileURL(entry).href);
  }
  throw new Error(`bench: @srdiff/${name} is not built (no dist/index.mjs); run "npm run build" or pass --build`);
}

/**
 * The object a suite's `run(ctx)` receives. Measurements are recorded as rows
 * `{case, op, impl, backend, status, medianMs, minMs, runsMs, gflops, note}`; the harness prints
 * and saves them.
 */
export function createContext({ suite, backends, options, core, rows }) {
  const ctx = {
    suite: suite.name,
    backends,
    options,
    core,
    tf: core.tf,
    importPackage,
    log: (...args) => console.error(`[${suite.name}]`, ...args),

    /** Whether `--only` lets this measurement run. */
    wants(impl, op) {
      return !options.only || options.only.includes(`${impl}:${op}`);
    },

    /** Activates a backend from `ctx.backends` (wasm threads were fixed when the process started). */
    async useBackend(backend) {
      const selection = await core.selectBackend(backend.name);
      const threads = backend.name === 'wasm' ? core.wasmThreadCount?.() : undefined;
      if (backend.name === 'wasm' && threads !== undefined && threads !== backend.threads) {
        throw new Error(`bench: wasm runs on ${threads} thread(s) in this process, ${backend.spec} asked for ${backend.threads}`);
      }
      return selection;
    },

    /** Times `run(prepare())` and records the row; `flops` (per run) adds GFLOP/s. */
    async measure({ case: caseName, op, impl, backend, flops, prepare, run, repeat = options.repeat, warmup = 1, note }) {
      if (!ctx.wants(impl, op)) return undefined;
      const timing = await timeRuns({ tf: core.tf, prepare, run, repeat, warmup });
      const row = {
        case: caseName, op, impl, backend: backend.spec, status: 'ok', ...timing,
        gflops: flops === undefined ? undefined : flops / (timing.medianMs * 1e6),
        note,
      };
      rows.push(row);
      return row;
    },

    /** Records a measurement that did not run: status 'missing' | 'skipped' | 'timeout' | 'error'. */
    record({ case: caseName, op, impl, backend, status, note }) {
      if (!ctx.wants(impl, op)) return;
      rows.push({ case: caseName, op, impl, backend: backend.spec, status, note });
    },

    /** Adds rows measured elsewhere (e.g. returned by `inChild`). */
    addRows(more) {
      rows.push(...more);
    },

    /**
     * Runs this suite in a child harness process (for one backend, `only` some measurements), killing
     * it after `timeoutMs`. Resolves to `{rows}` or `{timedOut: true}`. For measurements that can take
     * minutes (JavaScript cannot interrupt a running kernel) and for other wasm thread counts.
     */
    inChild({ backend, only, repeat = options.repeat, timeoutMs }) {
      return runChild({ suite: suite.name, backend, only, repeat, quick: options.quick, timeoutMs });
    },
  };
  return ctx;
}

export function runChild({ suite, backend, only, repeat, quick, timeoutMs }) {
  const out = path.join(os.tmpdir(), `srdiff-bench-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  const args = [RUN_SCRIPT, '--suite', suite, '--backend', backend.spec, '--repeat', String(repeat), '--child', out];
  if (only) args.push('--only', only.join(','));
  if (quick) args.push('--quick');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    let timedOut = false;
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      if (timer) clearTimeout(timer);
      if (timedOut) return resolve({ timedOut: true });
      if (code !== 0) return reject(new Error(`bench child (${suite}, ${backend.spec}) exited with code ${code}`));
      try {
        resolve({ rows: JSON.parse(readFileSync(out, 'utf8')).rows });
      } catch (err) {
        reject(err);
      } finally {
        rmSync(out, { force: true });
      }
    });
  });
}
