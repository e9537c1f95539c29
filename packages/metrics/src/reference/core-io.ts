/**
 * `@srdiff/core/io` (the safetensors reader of srdiff, without TensorFlow.js), loaded when the
 * reference check first needs it: `@srdiff/core` is an optional peer of this package, like
 * sharp, so the metric functions themselves stay dependency-free.
 */
type CoreIo = typeof import('@srdiff/core/io');

let loading: Promise<CoreIo> | undefined;

export function loadCoreIo(): Promise<CoreIo> {
  loading ??= import('@srdiff/core/io').catch((err: Error) => {
    loading = undefined;
    throw new Error(`@srdiff/metrics: the reference check reads safetensors with @srdiff/core, an optional peer of this package: npm install @srdiff/core (${err.message})`);
  });
  return loading;
}
