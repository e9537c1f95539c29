import { logicalCores } from '../backend/cores';
import type * as Ort from 'onnxruntime-node';
import { requireOptional } from '../backend/require-optional';

/** The `onnxruntime-node` module. */
export type OnnxRuntime = typeof Ort;
export type OrtInferenceSession = Ort.InferenceSession;
export type OrtTensor = Ort.Tensor;

export type OrtGraphOptimizationLevel = 'disabled' | 'basic' | 'extended' | 'layout' | 'all';
/** An execution provider by name (`'cpu'`, `'cuda'`, `'tensorrt'`, `'dml'`, `'coreml'`, `'webgpu'`) or with options. */
export type OrtExecutionProvider = string | { readonly name: string; readonly [option: string]: unknown };

export interface OrtSessionOptions {
  /** Intra-op threads (default: the number of logical cores, `os.availableParallelism()`). */
  threads?: number;
  /** Inter-op threads (default 1: the graphs here are sequential chains). */
  interOpThreads?: number;
  /** Graph optimisation level (default `'all'`: layout transforms (NCHWc) and fusions). */
  graphOptimizationLevel?: OrtGraphOptimizationLevel;
  /**
   * Execution providers in order of preference (default `['cpu']`); `'cpu'` is appended when
   * missing, and a provider that cannot be created (not in this build, no driver) falls back to the
   * next one, e.g. `['cuda', 'cpu']`.
   */
  executionProviders?: OrtExecutionProvider[];
  /**
   * Whether idle intra-op threads spin while waiting for work (ORT's `session.intra_op.allow_spinning`,
   * on in ORT itself). Default off: spinning burns the cores other work needs, and measured on the
   * 2-core development machine the UNet ran faster without it (nf=64 256²: 3.0 vs 3.5 s; on a busy
   * machine nf=16 128²: 0.39 vs 0.69 s).
   */
  spinWait?: boolean;
  /** ORT log severity (0 verbose … 4 fatal; default 3, errors only). */
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
  /** Write the optimised graph here (for inspection). */
  optimizedModelFilePath?: string;
  /** Per-node profiling to a JSON file with this prefix (see `session.endProfiling()`). */
  profileFilePrefix?: string;
  /**
   * ORT session config entries (`extra` of the session options), e.g.
   * `{ session: { intra_op: { allow_spinning: '0' } } }`.
   */
  extra?: Record<string, unknown>;
}

export interface OrtProviderAttempt {
  provider: string;
  ok: boolean;
  reason: string;
}

export interface OrtSessionHandle {
  session: OrtInferenceSession;
  /** The onnxruntime-node module the session came from (for building `Tensor`s). */
  ort: OnnxRuntime;
  /** The provider list the session was created with (the first is the one ORT prefers). */
  executionProviders: string[];
  /** Every provider list tried, with why it failed. */
  attempts: OrtProviderAttempt[];
  /** The options after defaults. */
  options: Required<Pick<OrtSessionOptions, 'threads' | 'interOpThreads' | 'graphOptimizationLevel'>>;
}

export class OnnxRuntimeMissingError extends Error {
  constructor(reason: string) {
    super(
      `onnxruntime-node could not be loaded (${reason}). It is needed for the ONNX engine: install it with ` +
        '`npm install onnxruntime-node` (add `--onnxruntime-node-install=skip` to skip its optional CUDA download), ' +
        'or use the tfjs engine instead.',
    );
    this.name = 'OnnxRuntimeMissingError';
  }
}

let cached: { module?: OnnxRuntime; error?: string } | undefined;

/**
 * Makes sessions use this ONNX Runtime module instead of the one `onnxruntime-node` resolves to
 * (in a page: the `onnxruntime-web` module the app imports and configures). Call before the first session.
 */
export function useOnnxRuntime(module: OnnxRuntime): void {
  if (!module || typeof module.InferenceSession?.create !== 'function') throw new TypeError('useOnnxRuntime: expected the onnxruntime-node or onnxruntime-web module');
  cached = { module };
}

/** Loads `onnxruntime-node` on first use; throws {@link OnnxRuntimeMissingError} when it is absent. */
export function loadOnnxRuntime(): OnnxRuntime {
  cached ??= requireOptional<OnnxRuntime>('onnxruntime-node');
  if (!cached.module) throw new OnnxRuntimeMissingError(cached.error ?? 'not installed');
  return cached.module;
}

/** Whether `onnxruntime-node` loads here (what an engine choice of `'auto'` asks). */
export function onnxRuntimeAvailable(): boolean {
  try {
    loadOnnxRuntime();
    return true;
  } catch {
    return false;
  }
}

function providerName(p: OrtExecutionProvider): string {
  return typeof p === 'string' ? p : p.name;
}

export const ORT_SESSION_DEFAULTS = {
  interOpThreads: 1,
  graphOptimizationLevel: 'all' as OrtGraphOptimizationLevel,
  executionProviders: ['cpu'] as OrtExecutionProvider[],
  logSeverityLevel: 3 as const,
  spinWait: false,
};

function sessionExtra(options: OrtSessionOptions): Record<string, unknown> {
  const extra: Record<string, unknown> = { ...(options.extra ?? {}) };
  const spin = options.spinWait ?? ORT_SESSION_DEFAULTS.spinWait;
  const session = { ...((extra.session as Record<string, unknown>) ?? {}) };
  session.intra_op = { ...((session.intra_op as Record<string, unknown>) ?? {}), allow_spinning: spin ? '1' : '0' };
  extra.session = session;
  return extra;
}

/**
 * Creates an ONNX Runtime session for a model (bytes or a file path). Each preferred provider is
 * tried in order with everything after it as fallback; the first list that creates a session wins
 * and `attempts` says why the others did not.
 */
export async function createOrtSession(model: Uint8Array | string, options: OrtSessionOptions = {}): Promise<OrtSessionHandle> {
  const ort = loadOnnxRuntime();
  const threads = options.threads ?? logicalCores();
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`createOrtSession: threads must be a positive integer, got ${threads}`);
  const interOpThreads = options.interOpThreads ?? ORT_SESSION_DEFAULTS.interOpThreads;
  const graphOptimizationLevel = options.graphOptimizationLevel ?? ORT_SESSION_DEFAULTS.graphOptimizationLevel;
  const preferred = [...(options.executionProviders ?? ORT_SESSION_DEFAULTS.executionProviders)];
  if (preferred.length === 0) throw new Error('createOrtSession: executionProviders is empty');
  if (!preferred.some((p) => providerName(p) === 'cpu')) preferred.push('cpu');

  const attempts: OrtProviderAttempt[] = [];
  for (let i = 0; i < preferred.length; i++) {
    const providers = preferred.slice(i);
    const sessionOptions: Ort.InferenceSession.SessionOptions = {
      executionProviders: providers as Ort.InferenceSession.ExecutionProviderConfig[],
      intraOpNumThreads: threads,
      interOpNumThreads: interOpThreads,
      graphOptimizationLevel,
      executionMode: 'sequential',
      logSeverityLevel: options.logSeverityLevel ?? ORT_SESSION_DEFAULTS.logSeverityLevel,
      ...(options.optimizedModelFilePath ? { optimizedModelFilePath: options.optimizedModelFilePath } : {}),
      ...(options.profileFilePrefix ? { enableProfiling: true, profileFilePrefix: options.profileFilePrefix } : {}),
      extra: sessionExtra(options),
    };
    try {
      const session =
        typeof model === 'string' ? await ort.InferenceSession.create(model, sessionOptions) : await ort.InferenceSession.create(model, sessionOptions);
      const names = providers.map(providerName);
      attempts.push({ provider: names[0]!, ok: true, reason: names.length > 1 ? `created with fallbacks ${names.slice(1).join(', ')}` : 'created' });
      return { session, ort, executionProviders: names, attempts, options: { threads, interOpThreads, graphOptimizationLevel } };
    } catch (err) {
      const reason = (err as Error).message.split('\n')[0]!;
      attempts.push({ provider: providerName(preferred[i]!), ok: false, reason });
      // A broken model fails on every provider: report it rather than retrying on the CPU.
      if (providerName(preferred[i]!) === 'cpu' || /protobuf|Load model|INVALID_GRAPH|INVALID_PROTOBUF/i.test(reason)) {
        const where = typeof model === 'string' ? model : `<${model.byteLength} bytes>`;
        throw new Error(`createOrtSession(${where}): ${attempts.map((a) => `${a.provider}: ${a.reason}`).join('; ')}`);
      }
    }
  }
  throw new Error('createOrtSession: unreachable');
}
