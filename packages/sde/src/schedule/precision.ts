/**
 * Scalar arithmetic in the precision the IR-SDE tables are built in.
 *
 * The original builds its tables with float32 torch ops, so every intermediate result is rounded
 * to float32. `float32` reproduces that by rounding after each operation (`Math.fround`), which
 * lands within ~1e-7 (relative) of the original's tables; `float64` evaluates the same formulas in
 * double precision (the "exact" tables the reference's fp64 discrepancy is measured against).
 */
export type TablePrecision = 'float32' | 'float64';

/** Rounds a value to the working precision (identity in float64). */
export type Round = (x: number) => number;

export function rounder(precision: TablePrecision): Round {
  return precision === 'float32' ? Math.fround : (x: number) => x;
}
