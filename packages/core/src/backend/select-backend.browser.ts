import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { configureWasmThreads, wasmThreadCount } from '../ops/wasm-threads';
import type { BackendAttempt, BackendName, BackendPreference, BackendSelection, SelectBackendOptions } from './select-backend';

export type { BackendAttempt, BackendName, BackendPreference, BackendSelection, SelectBackendOptions };

/*
 * Backend selection in a page: the same API as in Node (select-backend.ts), without the native
 * `tensorflow` backend (a Node addon) or environment variables. `auto` tries wasm (XNNPACK, what
 * `srdiff restore` uses in Node, so the sampler's arithmetic matches it), then cpu.
 */

export const BACKEND_ENV_VAR = 'SRDIFF_BACKEND';
export const WASM_THREADS_ENV_VAR = 'SRDIFF_WASM_THREADS';

const PREFERENCES: BackendPreference[] = ['auto', 'tensorflow', 'wasm', 'cpu'];

let current: BackendSelection | undefined;

async function trySimple(name: 'wasm' | 'cpu', attempts: BackendAttempt[]): Promise<boolean> {
  try {
    if (await tf.setBackend(name)) {
      await tf.ready();
      if (name === 'cpu') (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
      attempts.push({ name, ok: true, reason: name === 'wasm' ? 'WebAssembly (XNNPACK) kernels' : 'plain JavaScript kernels' });
      return true;
    }
    attempts.push({ name, ok: false, reason: 'setBackend returned false (for wasm: were its .wasm files found? pass wasmPaths)' });
  } catch (err) {
    attempts.push({ name, ok: false, reason: (err as Error).message });
  }
  return false;
}

/** Activates wasm, else cpu (`preference` forces one; a forced backend that fails is an error). */
export async function selectBackend(preference: BackendPreference = 'auto', options: SelectBackendOptions = {}): Promise<BackendSelection> {
  const v = String(preference).trim().toLowerCase() as BackendPreference;
  if (!PREFERENCES.includes(v)) throw new Error(`selectBackend: unknown backend "${preference}"; expected one of ${PREFERENCES.join(', ')}`);
  const attempts: BackendAttempt[] = [];
  let backend: BackendName | undefined;
  let description: string | undefined;
  if (v === 'tensorflow') attempts.push({ name: 'tensorflow', ok: false, reason: 'the native backend (tfjs-node) does not run in a browser' });
  if (v === 'auto' || v === 'wasm') {
    const fresh = !tf.engine().registry['wasm'];
    if (fresh && options.wasmThreads !== undefined && options.wasmThreads > 1) configureWasmThreads(options.wasmThreads);
    if (fresh && options.wasmPaths) setWasmPaths(options.wasmPaths as Parameters<typeof setWasmPaths>[0]);
    if (await trySimple('wasm', attempts)) {
      backend = 'wasm';
      const n = wasmThreadCount() ?? 1;
      description = `wasm (XNNPACK, ${n} thread${n === 1 ? '' : 's'})`;
    }
  }
  if (!backend && (v === 'auto' || v === 'cpu') && (await trySimple('cpu', attempts))) {
    backend = 'cpu';
    description = 'cpu (JavaScript)';
  }
  if (!backend) {
    throw new Error(`selectBackend("${v}"): no backend could be started:\n${attempts.map((a) => `  ${a.name}: ${a.reason}`).join('\n')}`);
  }
  current = { backend, description: description!, attempts };
  return current;
}

/** The selection made by the last {@link selectBackend} call, if any. */
export function currentBackend(): BackendSelection | undefined {
  return current && tf.getBackend() === current.backend ? current : undefined;
}

/** Selects the default backend once (idempotent). */
export async function ensureBackend(): Promise<BackendSelection> {
  return currentBackend() ?? selectBackend();
}
