import os from 'node:os';

/** Logical CPU cores this process may use (`os.availableParallelism()`, or the CPU count on older Node). */
export function logicalCores(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}
