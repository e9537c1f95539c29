import { logicalCores } from '../backend/cores';
import type {
  OnnxRuntime,
  OrtExecutionProvider,
  OrtGraphOptimizationLevel,
  OrtInferenceSession,
  OrtProviderAttempt,
  OrtSessionHandle,
  OrtSessionOptions,
  OrtTensor,
} from './ort-session';

export type { OnnxRuntime, OrtExecutionProvider, OrtGraphOptimizationLevel, OrtInferenceSession, OrtProviderAttempt, OrtSessionHandle, OrtSessionOptions, OrtTensor };

/*
 * ONNX Runtime in a page: onnxruntime-web (WebAssembly with SIMD and threads; WebGPU where the
 * browser has it) behind the same createOrtSession as onnxruntime-node (ort-session.ts). Both
 * runtimes share onnxruntime-common's InferenceSession and Tensor, so every caller (OnnxUNet, the
 * SRM, BLIP) runs unchanged. The module is the one the app passes to useOnnxRuntime, else
 * `onnxruntime-web/webgpu` (the build transformers.js also loads, so a page holds one runtime).
 */

export class OnnxRuntimeMissingError extends Error {
  constructor(reason: string) {
    super(
      `onnxruntime-web could not be loaded (${reason}). It runs the ONNX graphs in a page: install it with ` +
        '`npm install onnxruntime-web` and pass the module to useOnnxRuntime(), or let createOrtSession import it.',
    );
    this.name = 'OnnxRuntimeMissingError';
  }
}

let injected: OnnxRuntime | undefined;

export function useOnnxRuntime(module: OnnxRuntime): void {
  if (!module || typeof module.InferenceSession?.create !== 'function') throw new TypeError('useOnnxRuntime: expected the onnxruntime-web module');
  injected = module;
}

/** The module given to {@link useOnnxRuntime}; in a page it cannot be loaded synchronously otherwise. */
export function loadOnnxRuntime(): OnnxRuntime {
  if (!injected) throw new OnnxRuntimeMissingError('no module yet: call useOnnxRuntime(await import("onnxruntime-web")) or create a session first');
  return injected;
}

export function onnxRuntimeAvailable(): boolean {
  return injected !== undefined;
}

async function runtime(): Promise<OnnxRuntime> {
  if (injected) return injected;
  try {
    injected = (await import('onnxruntime-web/webgpu')) as unknown as OnnxRuntime;
  } catch (err) {
    throw new OnnxRuntimeMissingError((err as Error).message);
  }
  return injected;
}

export const ORT_SESSION_DEFAULTS = {
  interOpThreads: 1,
  graphOptimizationLevel: 'all' as OrtGraphOptimizationLevel,
  executionProviders: ['cpu'] as OrtExecutionProvider[],
  logSeverityLevel: 3 as const,
  spinWait: false,
};

interface WebEnv {
  wasm?: { numThreads?: number };
}

/** onnxruntime-web reads its thread count once, when its WebAssembly starts (the first session). */
let startedThreads: number | undefined;

function applyThreads(ort: OnnxRuntime, wanted: number): number {
  const isolated = Boolean((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated);
  // Without cross-origin isolation there is no SharedArrayBuffer: onnxruntime-web runs one thread.
  const effective = isolated ? wanted : 1;
  if (startedThreads === undefined) {
    const env = (ort as unknown as { env: WebEnv }).env;
    if (env.wasm) env.wasm.numThreads = effective;
    startedThreads = effective;
  }
  return startedThreads;
}

function providerName(p: OrtExecutionProvider): string {
  const name = typeof p === 'string' ? p : p.name;
  // Node's CPU provider is the WebAssembly one here.
  return name === 'cpu' ? 'wasm' : name;
}

/**
 * Creates an onnxruntime-web session for a model (bytes, or the URL of a `.onnx` file). Providers
 * are tried in order with the rest as fallback (`['webgpu', 'wasm']`; `'cpu'` means `'wasm'`, which
 * is appended when missing). `threads` applies to the first session of the page (onnxruntime-web
 * starts its WebAssembly once) and needs a cross-origin isolated page to exceed 1.
 */
export async function createOrtSession(model: Uint8Array | string, options: OrtSessionOptions = {}): Promise<OrtSessionHandle> {
  const ort = await runtime();
  const requested = options.threads ?? logicalCores();
  if (!Number.isInteger(requested) || requested < 1) throw new RangeError(`createOrtSession: threads must be a positive integer, got ${requested}`);
  const threads = applyThreads(ort, requested);
  const interOpThreads = options.interOpThreads ?? ORT_SESSION_DEFAULTS.interOpThreads;
  const graphOptimizationLevel = options.graphOptimizationLevel ?? ORT_SESSION_DEFAULTS.graphOptimizationLevel;
  const preferred = (options.executionProviders ?? ORT_SESSION_DEFAULTS.executionProviders).map((p) => (typeof p === 'string' ? providerName(p) : { ...p, name: providerName(p) }));
  if (preferred.length === 0) throw new Error('createOrtSession: executionProviders is empty');
  if (!preferred.some((p) => providerName(p) === 'wasm')) preferred.push('wasm');
  const attempts: OrtProviderAttempt[] = [];
  for (let i = 0; i < preferred.length; i++) {
    const providers = preferred.slice(i);
    const names = providers.map(providerName);
    try {
      const session = await ort.InferenceSession.create(model as Uint8Array, {
        executionProviders: providers as never,
        graphOptimizationLevel,
        executionMode: 'sequential',
        logSeverityLevel: options.logSeverityLevel ?? ORT_SESSION_DEFAULTS.logSeverityLevel,
        ...(options.extra ? { extra: options.extra } : {}),
      });
      attempts.push({ provider: names[0]!, ok: true, reason: names.length > 1 ? `created with fallbacks ${names.slice(1).join(', ')}` : 'created' });
      return { session, ort, executionProviders: names, attempts, options: { threads, interOpThreads, graphOptimizationLevel } };
    } catch (err) {
      const reason = String((err as Error)?.message ?? err).split('\n')[0]!;
      attempts.push({ provider: names[0]!, ok: false, reason });
      if (names[0] === 'wasm' || /protobuf|Load model|INVALID_GRAPH|INVALID_PROTOBUF/i.test(reason)) {
        const where = typeof model === 'string' ? model : `<${model.byteLength} bytes>`;
        throw new Error(`createOrtSession(${where}): ${attempts.map((a) => `${a.provider}: ${a.reason}`).join('; ')}`);
      }
    }
  }
  throw new Error('createOrtSession: unreachable');
}
