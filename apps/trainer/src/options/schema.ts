/**
 * Declarative validation of options files (YAML with the original SR-Diff keys). A schema node is
 * either a field (type, default, bounds, choices) or an object of nodes. Validation resolves
 * defaults in one place and reports every problem with its dotted key, the value found and what is
 * allowed — e.g. `train.lr_G: -1 is not allowed (expected a number > 0)`.
 */
export type FieldType = 'number' | 'integer' | 'string' | 'boolean' | 'number[]' | 'integer[]' | 'string[]';

export interface FieldSpec {
  kind: 'field';
  type: FieldType;
  description: string;
  default?: unknown;
  /** null/~ accepted (and the default when no default is given). */
  nullable?: boolean;
  min?: number;
  /** Exclusive lower bound. */
  gt?: number;
  max?: number;
  /** Exclusive upper bound. */
  lt?: number;
  choices?: readonly (string | number)[];
}

/** An object of schema nodes; `T` is the type it validates to (so `loadOptions` can infer it). */
export interface ObjectSpec<T = unknown> {
  kind: 'object';
  description?: string;
  fields: Record<string, SchemaNode>;
  /** Keys of the original's files that we accept and ignore (GPU ids, tensorboard, ...). */
  ignored?: readonly string[];
  /** Accept any extra keys as objects of this schema (e.g. several test datasets). */
  additional?: SchemaNode;
  /** Type-level only, never set: the resolved options type. */
  readonly __resolvesTo?: T;
}

export type SchemaNode = FieldSpec | ObjectSpec;

export const field = (type: FieldType, description: string, extra: Omit<FieldSpec, 'kind' | 'type' | 'description'> = {}): FieldSpec => ({
  kind: 'field', type, description, ...extra,
});
export const object = <T = unknown>(fields: Record<string, SchemaNode>, extra: Omit<ObjectSpec, 'kind' | 'fields' | '__resolvesTo'> = {}): ObjectSpec<T> => ({
  kind: 'object', fields, ...extra,
});

export interface ValidationResult<T> {
  value: T;
  errors: string[];
  /** Keys that are neither known nor in an `ignored` list (probably typos). */
  unknown: string[];
}

export class OptionsError extends Error {
  constructor(readonly source: string, readonly problems: string[]) {
    super(`${source}: invalid options:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'OptionsError';
  }
}

export function validate<T>(node: ObjectSpec<T>, raw: unknown): ValidationResult<T> {
  const errors: string[] = [];
  const unknown: string[] = [];
  const value = validateObject(node, raw ?? {}, '', errors, unknown);
  return { value: value as T, errors, unknown };
}

function validateObject(node: ObjectSpec, raw: unknown, path: string, errors: string[], unknown: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    errors.push(`${path || '(top level)'}: expected a mapping of keys, got ${describe(raw)}`);
    raw = {};
  }
  const input = raw as Record<string, unknown>;
  for (const [key, child] of Object.entries(node.fields)) {
    const p = path ? `${path}.${key}` : key;
    out[key] = child.kind === 'object' ? validateObject(child, input[key] ?? {}, p, errors, unknown) : validateField(child, input[key], p, errors);
  }
  for (const key of Object.keys(input)) {
    if (key in node.fields || node.ignored?.includes(key)) continue;
    const p = path ? `${path}.${key}` : key;
    if (node.additional) {
      const child = node.additional;
      out[key] = child.kind === 'object' ? validateObject(child, input[key], p, errors, unknown) : validateField(child, input[key], p, errors);
    } else {
      unknown.push(p);
    }
  }
  return out;
}

function validateField(spec: FieldSpec, raw: unknown, path: string, errors: string[]): unknown {
  if (raw === undefined || raw === null) {
    if (raw === null && !spec.nullable && spec.default === undefined) {
      errors.push(`${path}: a value is required (${spec.description})`);
    }
    return raw === null && spec.nullable ? null : (spec.default ?? null);
  }
  const isList = spec.type.endsWith('[]');
  const base = spec.type.replace('[]', '') as 'number' | 'integer' | 'string' | 'boolean';
  const values = isList ? (Array.isArray(raw) ? raw : [raw]) : [raw];
  if (!isList && Array.isArray(raw)) {
    errors.push(`${path}: ${describe(raw)} is not allowed (expected ${expectation(spec)})`);
    return spec.default ?? null;
  }
  const converted: unknown[] = [];
  for (const v of values) {
    const c = convertScalar(base, v);
    if (c === undefined || !withinBounds(spec, c)) {
      errors.push(`${path}: ${describe(raw)} is not allowed (expected ${expectation(spec)})`);
      return spec.default ?? null;
    }
    converted.push(c);
  }
  return isList ? converted : converted[0];
}

function convertScalar(base: 'number' | 'integer' | 'string' | 'boolean', v: unknown): unknown {
  switch (base) {
    case 'number':
    case 'integer': {
      // YAML 1.1 reads `2e-4` as a string; the original uses `!!float 2e-4`. Accept both.
      const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
      if (!Number.isFinite(n) || (base === 'integer' && !Number.isInteger(n))) return undefined;
      return n;
    }
    case 'boolean':
      return typeof v === 'boolean' ? v : undefined;
    default:
      return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
  }
}

function withinBounds(spec: FieldSpec, v: unknown): boolean {
  if (spec.choices && !spec.choices.includes(v as string | number)) return false;
  if (typeof v !== 'number') return true;
  return !(
    (spec.min !== undefined && v < spec.min) ||
    (spec.max !== undefined && v > spec.max) ||
    (spec.gt !== undefined && v <= spec.gt) ||
    (spec.lt !== undefined && v >= spec.lt)
  );
}

function expectation(spec: FieldSpec): string {
  const base = spec.type.replace('[]', '');
  const article = base === 'integer' ? 'an integer' : base === 'boolean' ? 'true or false' : `a ${base}`;
  const parts = [spec.type.endsWith('[]') ? `a list of ${base}s` : article];
  if (spec.choices) parts.push(`one of ${spec.choices.join(', ')}`);
  if (spec.min !== undefined) parts.push(`>= ${spec.min}`);
  if (spec.gt !== undefined) parts.push(`> ${spec.gt}`);
  if (spec.max !== undefined) parts.push(`<= ${spec.max}`);
  if (spec.lt !== undefined) parts.push(`< ${spec.lt}`);
  return `${parts.join(', ')}: ${spec.description}`;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null) return 'null';
  if (Array.isArray(v) || typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** Renders a schema as documentation lines (`key (type, default): description`). */
export function describeSchema(node: ObjectSpec, path = ''): string[] {
  const lines: string[] = [];
  for (const [key, child] of Object.entries(node.fields)) {
    const p = path ? `${path}.${key}` : key;
    if (child.kind === 'object') lines.push(...describeSchema(child, p));
    else {
      const def = child.default === undefined ? (child.nullable ? '~' : 'required') : JSON.stringify(child.default);
      lines.push(`${p} (${child.type}${child.choices ? `: ${child.choices.join('|')}` : ''}, default ${def}): ${child.description}`);
    }
  }
  return lines;
}
