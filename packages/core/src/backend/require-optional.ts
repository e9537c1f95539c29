import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * Loads an optional peer dependency (e.g. `@tensorflow/tfjs-node-gpu`) if the user installed it.
 * Resolution starts from this package under CommonJS and from the working directory under ESM,
 * so a peer installed in the user's project is found in both builds.
 */
export function requireOptional<T = unknown>(name: string): { module?: T; error?: string } {
  const candidates: NodeJS.Require[] = [];
  if (typeof require === 'function') candidates.push(require);
  candidates.push(createRequire(path.join(process.cwd(), 'noop.js')));
  let lastError = '';
  for (const req of candidates) {
    try {
      return { module: req(name) as T };
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      lastError = e.code === 'MODULE_NOT_FOUND' && e.message.includes(`'${name}'`) ? 'not installed' : e.message.split('\n')[0]!;
    }
  }
  return { error: lastError };
}
