import fs from 'node:fs';
import yaml from 'js-yaml';
import { OptionsError, validate, type ObjectSpec } from './schema';

export interface LoadedOptions<T> {
  options: T;
  /** The merged input before defaults (to tell which keys the user set). */
  raw: Record<string, unknown>;
  /** Keys that are neither known nor ignored (likely typos), as warnings. */
  warnings: string[];
}

/** Deep-merges `override` into `base` (plain objects merge, everything else replaces). */
export function mergeOptions(base: unknown, override: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(override)) return override === undefined ? base : override;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(override)) out[k] = mergeOptions(base[k], v);
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Sets `a.b.c = value` in a nested object (creating levels) — for `--set key=value` overrides. */
export function setDotted(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let obj = target;
  for (const p of parts.slice(0, -1)) {
    if (!isPlainObject(obj[p])) obj[p] = {};
    obj = obj[p] as Record<string, unknown>;
  }
  obj[parts[parts.length - 1]!] = value;
}

/** Parses `key=value` with the value read as YAML (numbers, booleans, lists, ~). */
export function parseOverride(expr: string): [string, unknown] {
  const eq = expr.indexOf('=');
  if (eq <= 0) throw new OptionsError('--set', [`"${expr}" must look like key.path=value`]);
  return [expr.slice(0, eq).trim(), yaml.load(expr.slice(eq + 1))];
}

/**
 * Reads a YAML options file (or none), applies overrides, validates against `schema`, and throws
 * an {@link OptionsError} listing every invalid key at once.
 */
export function loadOptions<T>(schema: ObjectSpec<T>, file: string | undefined, overrides: Record<string, unknown> = {}, sets: string[] = []): LoadedOptions<T> {
  let raw: unknown = {};
  if (file) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new OptionsError(file, [`cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`]);
    }
    try {
      raw = yaml.load(text) ?? {};
    } catch (err) {
      throw new OptionsError(file, [`not valid YAML: ${(err as Error).message.split('\n')[0]}`]);
    }
  }
  raw = mergeOptions(raw, overrides);
  for (const expr of sets) {
    const [k, v] = parseOverride(expr);
    setDotted(raw as Record<string, unknown>, k, v);
  }
  const { value, errors, unknown } = validate<T>(schema, raw);
  if (errors.length) throw new OptionsError(file ?? 'options', errors);
  return { options: value, raw: raw as Record<string, unknown>, warnings: unknown.map((k) => `${file ?? 'options'}: unknown key "${k}" ignored`) };
}
