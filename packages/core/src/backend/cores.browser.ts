/** Logical CPU cores the page may use (`navigator.hardwareConcurrency`; 1 where the browser does not say). */
export function logicalCores(): number {
  const n = typeof navigator === 'undefined' ? undefined : navigator.hardwareConcurrency;
  return typeof n === 'number' && n >= 1 ? n : 1;
}
