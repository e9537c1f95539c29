import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { writeFileAtomicSync } from '../io/atomic';

/*
 * tfjs-backend-wasm ships a threaded build (XNNPACK on a pthreadpool of Web Workers) but never uses
 * it in Node, for three reasons, each worked around here for the duration of the backend's start:
 *  1. the WASM_HAS_MULTITHREAD_SUPPORT flag is hard-wired to false under Node → set it to true;
 *  2. the pthread workers are started from a `blob:` URL, which Node's worker_threads refuse
 *     (ERR_WORKER_PATH) → `URL.createObjectURL` hands out a real file holding the same worker
 *     script, and that worker loads the emscripten glue from its file in the package;
 *  3. the C++ side caps the pool at logical cores / 2 (1 on a 2-vCPU machine) → `os.cpus()`
 *     reports twice the requested thread count while the module initialises.
 */

const WASM_PACKAGE = '@tensorflow/tfjs-backend-wasm';
const GLUE = `${WASM_PACKAGE}/wasm-out/tfjs-backend-wasm-threaded-simd.js`;
const WORKER = `${WASM_PACKAGE}/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js`;
/** The pool of pre-started workers in tfjs's threaded build (PTHREAD_POOL_SIZE). */
const MAX_WASM_THREADS = 8;
const START_TIMEOUT_MS = 60_000;

let configuredThreads: number | undefined;

/**
 * Makes the tfjs `wasm` backend run XNNPACK on `threads` threads (1 = tfjs's default single-threaded
 * build). Call it once, before the wasm backend starts (before `selectBackend`/`tf.setBackend('wasm')`).
 * The worker script it needs is written once to the OS temp folder.
 *
 * On a machine shared with other busy processes, more threads can be slower: XNNPACK's workers
 * spin-wait on each other, so measure (`npm run bench -- --suite conv`) before relying on it.
 */
export function configureWasmThreads(threads: number): void {
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_WASM_THREADS) {
    throw new Error(`configureWasmThreads: threads must be an integer from 1 to ${MAX_WASM_THREADS}, got ${threads}`);
  }
  if (tf.engine().registry['wasm']) {
    throw new Error('configureWasmThreads: the wasm backend has already started; call this before selectBackend()/tf.setBackend("wasm")');
  }
  if (configuredThreads !== undefined && configuredThreads !== threads) {
    throw new Error(`configureWasmThreads: already configured for ${configuredThreads} threads`);
  }
  if (threads === 1 || configuredThreads === threads) return;
  const factory = tf.findBackendFactory('wasm');
  if (!factory) throw new Error(`configureWasmThreads: the wasm backend is not registered (import ${WASM_PACKAGE})`);
  const priority = tf.engine().registryFactory['wasm']?.priority ?? 2;
  const workerFile = writeWorkerScript();

  setThreadsCount(threads);
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  tf.removeBackend('wasm');
  tf.registerBackend('wasm', async () => {
    const restore = patchForStart(workerFile, threads);
    let timer: NodeJS.Timeout | undefined;
    // A worker that fails to load leaves emscripten waiting forever: fail instead.
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`configureWasmThreads: the ${threads}-thread wasm backend did not start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
    });
    try {
      const backend = await Promise.race([Promise.resolve(factory()), timeout]);
      unrefPoolThreads(backend);
      return backend;
    } finally {
      clearTimeout(timer);
      restore();
    }
  }, priority);
  configuredThreads = threads;
}

/** Threads the started wasm backend uses (1 if it runs tfjs's single-threaded build), undefined before it starts. */
export function wasmThreadCount(): number | undefined {
  if (!tf.engine().registry['wasm']) return undefined;
  try {
    return getThreadsCount();
  } catch {
    return undefined;
  }
}

/**
 * Emscripten keeps a worker that runs a pthread referenced, so XNNPACK's pool threads (which wait for
 * work forever) would keep Node from ever exiting. They hold no pending work of their own: unref them.
 */
function unrefPoolThreads(backend: unknown): void {
  const pthreads = (backend as { wasm?: { PThread?: { runningWorkers?: Array<{ unref?: () => void }> } } }).wasm?.PThread;
  for (const worker of pthreads?.runningWorkers ?? []) worker.unref?.();
}

/** A real `require` in both builds (in the ESM build, resolution starts from the working directory). */
function packageRequire(): NodeJS.Require {
  return createRequire(typeof __filename === 'string' ? __filename : path.join(process.cwd(), 'noop.js'));
}

/** Writes tfjs's pthread worker script, set up to load the glue from its file, to the temp folder. */
function writeWorkerScript(): string {
  const req = packageRequire();
  const gluePath = req.resolve(GLUE);
  const { wasmWorkerContents } = req(WORKER) as { wasmWorkerContents: string };
  // tfjs escapes newlines the same way before turning the script into a Blob.
  const script =
    `${wasmWorkerContents.replace(/\n/g, '\\n')};\n` +
    `// The worker is handed tfjs's Blob of the glue; load the same glue from its file instead.\n` +
    `URL.createObjectURL = () => ${JSON.stringify(gluePath)};\nURL.revokeObjectURL = () => {};\n`;
  const digest = createHash('sha256').update(script).digest('hex').slice(0, 16);
  const dir = path.join(tmpdir(), `srdiff-tfjs-wasm-threads-${digest}`);
  const file = path.join(dir, 'worker.js');
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    writeFileAtomicSync(file, script);
  }
  return file;
}

/** The global patches that last while the threaded module starts; returns their undo. */
function patchForStart(workerFile: string, threads: number): () => void {
  // The builtin module object itself (an ESM/CJS interop wrapper would not reach the glue's require("os")).
  const os = packageRequire()('node:os') as typeof import('node:os');
  const createObjectURL = URL.createObjectURL;
  const cpus = os.cpus;
  URL.createObjectURL = (obj: Blob | MediaSource) =>
    obj instanceof Blob && obj.type === 'application/javascript' ? workerFile : createObjectURL(obj as Blob);
  // The glue asks require("os").cpus().length for the core count; the C++ side halves it.
  os.cpus = () => {
    const real = cpus();
    return Array.from({ length: 2 * threads }, (_, i) => real[i % real.length]!);
  };
  return () => {
    URL.createObjectURL = createObjectURL;
    os.cpus = cpus;
  };
}
