/**
 * In a page there is no `require`: an optional peer is bundled (import it) or absent. Says so in
 * the same shape as the Node version, so callers report it like a missing package.
 */
export function requireOptional<T = unknown>(name: string): { module?: T; error?: string } {
  return { error: `${name} cannot be loaded in a browser (it is a Node.js package)` };
}
