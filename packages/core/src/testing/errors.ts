import { toleranceError } from '@srdiff/core';

/**
 * The reference sets' `rel` error, max|got − ref| / max|ref| (max|got − ref| when ref is all
 * zeros); Infinity when the lengths differ or a value is NaN, so a bound on it fails loudly.
 */
export function relError(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  return toleranceError(got, ref, 'rel');
}

/** max|got − ref|, with the same length and NaN rules as {@link relError}. */
export function absError(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  return toleranceError(got, ref, 'abs');
}
