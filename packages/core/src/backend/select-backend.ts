import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { configureWasmThreads, wasmThreadCount } from '../ops/wasm-threads';
import { requireOptional } from './require-optional';

/**
 * Which TensorFlow.js engine runs the networks:
 * - `tensorflow`: the native libtensorflow from `@tensorflow/tfjs-node-gpu` (CUDA) or
 *   `@tensorflow/tfjs-node` (CPU), optional peers the user installs;
 * - `wasm`: XNNPACK compiled to WebAssembly (SIMD), bundled — the default on machines without the
 *   native binding;
 * - `cpu`: plain JavaScript kernels, slow, always available.
 */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export type BackendPreference = 'auto' | BackendName;

export interface BackendAttempt {
  name: string;
  ok: boolean;
  reason: string;
}

export interface BackendSelection {
  /** The tfjs backend now active. */
  backend: BackendName;
  /** Human-readable engine, e.g. "tensorflow (tfjs-node-gpu, CUDA)". */
  description: string;
  /** Every candidate tried, in order, with why it was or was not used. */
  attempts: BackendAttempt[];
}

export const BACKEND_ENV_VAR = 'SRDIFF_BACKEND';
/** Threads of the wasm backend (default 1; the threaded build starts only when > 1). */
export const WASM_THREADS_ENV_VAR = 'SRDIFF_WASM_THREADS';

export interface SelectBackendOptions {
  /**
   * Threads for the wasm backend, applied before it first starts (later calls cannot change it).
   * Default: `SRDIFF_WASM_THREADS`, else 1. Two threads run a conv forward + both gradients ~1.8×
   * faster on an idle 2-core machine, and gain nothing when the cores are busy.
   */
  wasmThreads?: number;
  /**
   * Where tfjs-backend-wasm's `.wasm` files are served from, a URL prefix or one URL per file name
   * (tfjs's `setWasmPaths`): what a page or a bundler that moves them needs. Default: beside the
   * package's own script.
   */
  wasmPaths?: string | Record<string, string>;
}
const PREFERENCES: BackendPreference[] = ['auto', 'tensorflow', 'wasm', 'cpu'];

let current: BackendSelection | undefined;

function parsePreference(value: string, source: string): BackendPreference {
  const v = value.trim().toLowerCase();
  if (!(PREFERENCES as string[]).includes(v)) {
    throw new Error(`${source}: unknown backend "${value}"; expected one of ${PREFERENCES.join(', ')}`);
  }
  return v as BackendPreference;
}

async function tryNative(attempts: BackendAttempt[]): Promise<string | undefined> {
  for (const [pkg, label] of [['@tensorflow/tfjs-node-gpu', 'CUDA'], ['@tensorflow/tfjs-node', 'CPU']] as const) {
    const loaded = requireOptional(pkg);
    if (!loaded.module) {
      attempts.push({ name: `tensorflow (${pkg})`, ok: false, reason: loaded.error ?? 'not installed' });
      continue;
    }
    if (!tf.findBackend('tensorflow')) {
      attempts.push({
        name: `tensorflow (${pkg})`,
        ok: false,
        reason: 'loaded, but registered on another copy of @tensorflow/tfjs-core (install matching versions so npm dedupes them)',
      });
      continue;
    }
    if (await tf.setBackend('tensorflow')) {
      attempts.push({ name: `tensorflow (${pkg})`, ok: true, reason: `native libtensorflow, ${label}` });
      return `tensorflow (${pkg.replace('@tensorflow/', '')}, ${label})`;
    }
    attempts.push({ name: `tensorflow (${pkg})`, ok: false, reason: 'setBackend failed' });
  }
  return undefined;
}

async function trySimple(name: 'wasm' | 'cpu', attempts: BackendAttempt[]): Promise<boolean> {
  try {
    if (await tf.setBackend(name)) {
      await tf.ready();
      // The cpu backend prints a "install tfjs-node" banner on first use; our selection report
      // already says which engine runs and why, so mark that first use as done.
      if (name === 'cpu') (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
      attempts.push({ name, ok: true, reason: name === 'wasm' ? 'WebAssembly (XNNPACK) kernels' : 'plain JavaScript kernels' });
      return true;
    }
    attempts.push({ name, ok: false, reason: 'setBackend returned false' });
  } catch (err) {
    attempts.push({ name, ok: false, reason: (err as Error).message });
  }
  return false;
}

/**
 * Activates the fastest engine that loads: native GPU → native CPU → wasm → cpu.
 * `preference` (or the `SRDIFF_BACKEND` environment variable, which wins over `'auto'`) forces one;
 * a forced backend that fails to load is an error rather than a silent fallback.
 */
export async function selectBackend(preference: BackendPreference = 'auto', options: SelectBackendOptions = {}): Promise<BackendSelection> {
  let pref = parsePreference(preference, 'selectBackend');
  const env = process.env[BACKEND_ENV_VAR];
  if (env && pref === 'auto') pref = parsePreference(env, BACKEND_ENV_VAR);
  const attempts: BackendAttempt[] = [];
  let description: string | undefined;
  let backend: BackendName | undefined;

  if (pref === 'auto' || pref === 'tensorflow') {
    description = await tryNative(attempts);
    if (description) backend = 'tensorflow';
  }
  if (!backend && (pref === 'auto' || pref === 'wasm')) {
    const threads = options.wasmThreads ?? parseThreads(process.env[WASM_THREADS_ENV_VAR]);
    if (threads > 1 && !tf.engine().registry['wasm']) configureWasmThreads(threads);
    if (options.wasmPaths && !tf.engine().registry['wasm']) setWasmPaths(options.wasmPaths as Parameters<typeof setWasmPaths>[0]);
    if (await trySimple('wasm', attempts)) {
      backend = 'wasm';
      const n = wasmThreadCount() ?? 1;
      description = `wasm (XNNPACK, ${n} thread${n === 1 ? '' : 's'})`;
    }
  }
  if (!backend && (pref === 'auto' || pref === 'cpu') && (await trySimple('cpu', attempts))) {
    backend = 'cpu';
    description = 'cpu (JavaScript)';
  }
  if (!backend) {
    const why = attempts.map((a) => `  ${a.name}: ${a.reason}`).join('\n');
    throw new Error(`selectBackend("${pref}"): no backend could be started:\n${why}`);
  }
  current = { backend, description: description!, attempts };
  return current;
}

/** The selection made by the last {@link selectBackend} call, if any. */
export function currentBackend(): BackendSelection | undefined {
  return current && tf.getBackend() === current.backend ? current : undefined;
}

/** Selects the default backend once (idempotent); what library entry points call before computing. */
export async function ensureBackend(): Promise<BackendSelection> {
  return currentBackend() ?? selectBackend();
}

function parseThreads(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return 1;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${WASM_THREADS_ENV_VAR}: expected a positive integer, got "${value}"`);
  return n;
}
