import { tf } from '@srdiff/core';

/**
 * Runs a constructor and disposes every temporary tensor it created but did not release (variables
 * survive: tidy never disposes them). Needed around core's AdamW (its zero moments are handed to
 * `tf.variable` and never disposed, pinning two model-sized buffers) and MultiheadAttention (one
 * zero bias).
 */
export function disposeStrayTensors<T>(build: () => T): T {
  let built: T | undefined;
  tf.tidy(() => {
    built = build();
  });
  return built as T;
}
