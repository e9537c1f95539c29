/**
 * One line of a parity check against a reference folder (what `srdiff verify` prints).
 * Shared shape for every package's verifier; a candidate to move into `@srdiff/core`.
 */
export interface VerifyRow {
  /** The reference case (folder), e.g. `sde`. */
  case: string;
  /** `<file>:<tensor key>` or `meta:<json path>`, as in the reference's `tolerances`. */
  key: string;
  /** The measured error (see `kind`); NaN when it could not be computed. */
  error: number;
  tolerance: number;
  /** `rel`: max|got - ref| / max|ref|; `abs`: max|got - ref|. */
  kind: 'rel' | 'abs';
  pass: boolean;
  /** Why a row failed without a number, or anything else worth knowing. */
  note?: string;
}

export interface Tolerance {
  kind: 'rel' | 'abs';
  value: number;
}

/** The error measure of the reference README: `rel` is scale-relative over the whole tensor. */
export function measureError(got: ArrayLike<number>, ref: ArrayLike<number>, kind: 'rel' | 'abs'): number {
  if (got.length !== ref.length) return NaN;
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(got[i]! - ref[i]!);
    maxDiff = Number.isNaN(d) || Number.isNaN(maxDiff) ? NaN : Math.max(maxDiff, d);
    maxRef = Math.max(maxRef, Math.abs(ref[i]!));
  }
  if (kind === 'abs') return maxDiff;
  if (maxRef === 0) return maxDiff === 0 ? 0 : Infinity;
  return maxDiff / maxRef;
}

/** Looks a key up in a reference's `tolerances`: the exact key, then `<file>:*`. */
export function findTolerance(tolerances: Record<string, Tolerance>, key: string): Tolerance | undefined {
  if (tolerances[key]) return tolerances[key];
  const file = key.slice(0, key.indexOf(':'));
  return tolerances[`${file}:*`];
}
