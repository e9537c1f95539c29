/** Thrown when a sampler's AbortSignal fires; `name` is 'AbortError' like DOM aborts. */
export class SamplingAbortedError extends Error {
  constructor(
    readonly step: number,
    readonly total: number,
    readonly t: number,
    reason?: unknown,
  ) {
    super(`sampling aborted before step ${step} of ${total} (t = ${t})${describeReason(reason)}`, { cause: reason });
    this.name = 'AbortError';
  }
}

function describeReason(reason: unknown): string {
  if (reason === undefined) return '';
  if (reason instanceof Error) return reason.name === 'AbortError' ? '' : `: ${reason.message}`;
  return `: ${String(reason)}`;
}
