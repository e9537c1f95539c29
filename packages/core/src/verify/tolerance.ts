/**
 * Comparison against reference vectors, with the tolerance semantics of the reference sets
 * (`shared/reference/README.md` → Tolerances):
 * - `rel`: max|got - ref| / max|ref| over the whole tensor (a scalar: |got - ref| / |ref|);
 * - `abs`: max|got - ref|.
 * Every `srdiff verify` case reports rows of this shape.
 */
export type ToleranceKind = 'rel' | 'abs';

export interface Tolerance {
  kind: ToleranceKind;
  value: number;
  fp64_discrepancy?: number;
}

export interface VerifyRow {
  /** The reference case, e.g. `unet`, `srm`, `sde`, `metrics`, `tiny-clip`. */
  case: string;
  /** What was compared, e.g. `io.safetensors:out`. */
  key: string;
  error: number;
  tolerance: number;
  kind: ToleranceKind;
  pass: boolean;
  /** Optional note (e.g. why a key was skipped or how it was computed). */
  note?: string;
}

type Numeric = ArrayLike<number>;

/** The error measure of `kind` between two equally long arrays. */
export function toleranceError(got: Numeric, ref: Numeric, kind: ToleranceKind): number {
  if (got.length !== ref.length) return Infinity;
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(got[i]! - ref[i]!);
    if (!(d <= maxDiff)) maxDiff = Number.isNaN(d) ? Infinity : d;
    const r = Math.abs(ref[i]!);
    if (r > maxRef) maxRef = r;
  }
  if (kind === 'abs') return maxDiff;
  return maxRef === 0 ? maxDiff : maxDiff / maxRef;
}

/** Builds a {@link VerifyRow} comparing `got` with `ref` under `tol`. */
export function verifyRow(caseName: string, key: string, got: Numeric, ref: Numeric, tol: Tolerance, note?: string): VerifyRow {
  const error = toleranceError(got, ref, tol.kind);
  return { case: caseName, key, error, tolerance: tol.value, kind: tol.kind, pass: error <= tol.value, ...(note ? { note } : {}) };
}

/**
 * Looks up the tolerance of `key` in a reference `meta.json` → `tolerances` object: the exact key,
 * then `<file>:*`, then patterns with `*` wildcards (e.g. `ops.safetensors:t*.mu_bar`).
 */
export function findTolerance(tolerances: Record<string, Tolerance>, key: string): Tolerance {
  if (tolerances[key]) return tolerances[key]!;
  const file = key.split(':')[0];
  if (tolerances[`${file}:*`]) return tolerances[`${file}:*`]!;
  for (const [pattern, tol] of Object.entries(tolerances)) {
    if (!pattern.includes('*') && !pattern.includes('<')) continue;
    const re = new RegExp(`^${pattern.split(/\*|<[^>]+>/).map(escapeRegExp).join('.*')}$`);
    if (re.test(key)) return tol;
  }
  throw new Error(`no tolerance for "${key}" in the reference meta.json (known: ${Object.keys(tolerances).slice(0, 8).join(', ')}…)`);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Formats rows as an aligned text table (what `srdiff verify` prints). */
export function formatVerifyTable(rows: VerifyRow[]): string {
  const header = ['case', 'key', 'error', 'tolerance', 'kind', 'result'];
  const body = rows.map((r) => [r.case, r.key, r.error.toExponential(2), r.tolerance.toExponential(1), r.kind, r.pass ? 'pass' : 'FAIL']);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
