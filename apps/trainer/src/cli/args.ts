/**
 * A small typed command-line parser: `--name value`, `--name=value`, `--flag`, `--no-flag`, the
 * original's single-dash `-opt file`, repeated options, and positionals. Each command declares its
 * options once; help text and validation come from that declaration, so every flag value is
 * checked (type, choices, integer, range) before a command loads any model, and an error names
 * the flag.
 */
export type OptionType = 'string' | 'number' | 'boolean' | 'string[]';

export interface OptionSpec {
  type: OptionType;
  description: string;
  /** Value name shown in help, e.g. FILE. */
  valueName?: string;
  default?: string | number | boolean | string[];
  /** Accepted values (strings only). */
  choices?: readonly string[];
  /** Other spellings, e.g. `opt` for `--opt`/`-opt`. */
  aliases?: string[];
  required?: boolean;
  /** Numbers only: must be a whole number. */
  integer?: boolean;
  /** Numbers only: the smallest accepted value (inclusive). */
  min?: number;
  /** Numbers only: values must be greater than this. */
  greaterThan?: number;
  /** Numbers only: the largest accepted value (inclusive). */
  max?: number;
}

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  options: Record<string, OptionSpec>;
  /** The positional arguments, each required, in order; any other positional is a usage error. */
  positionals?: string[];
  examples?: string[];
}

export type ParsedOptions = Record<string, string | number | boolean | string[] | undefined>;

export class UsageError extends Error {
  constructor(message: string, readonly command?: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function parseArgs(spec: CommandSpec, argv: string[]): { options: ParsedOptions; positionals: string[]; help: boolean } {
  const byName = new Map<string, [string, OptionSpec]>();
  for (const [name, opt] of Object.entries(spec.options)) {
    for (const n of [name, ...(opt.aliases ?? [])]) byName.set(n, [name, opt]);
  }
  const options: ParsedOptions = {};
  const positionals: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-h' || arg === '--help') {
      help = true;
      continue;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    let key = eq >= 0 ? body.slice(0, eq) : body;
    let inline = eq >= 0 ? body.slice(eq + 1) : undefined;
    let negated = false;
    if (!byName.has(key) && key.startsWith('no-') && byName.get(key.slice(3))?.[1].type === 'boolean') {
      key = key.slice(3);
      negated = true;
    }
    const found = byName.get(key);
    if (!found) throw new UsageError(`unknown option "${arg}" for "${spec.name}" (see "srdiff ${spec.name} --help")`, spec.name);
    const [name, opt] = found;
    if (opt.type === 'boolean') {
      if (inline !== undefined && !['true', 'false', '1', '0'].includes(inline)) {
        throw new UsageError(`--${name} takes no value or true/false, got "${inline}"`, spec.name);
      }
      options[name] = negated ? false : inline === undefined ? true : inline === 'true' || inline === '1';
      continue;
    }
    if (inline === undefined) {
      inline = argv[++i];
      if (inline === undefined) throw new UsageError(`--${name} needs a value (${opt.valueName ?? opt.type})`, spec.name);
    }
    options[name] = convert(name, opt, inline, options[name], spec.name);
  }
  for (const [name, opt] of Object.entries(spec.options)) {
    if (options[name] === undefined && opt.default !== undefined) options[name] = opt.default;
    if (!help && opt.required && options[name] === undefined) {
      throw new UsageError(`--${name} is required (${opt.description})`, spec.name);
    }
  }
  if (!help) checkPositionals(spec, positionals);
  return { options, positionals, help };
}

function checkPositionals(spec: CommandSpec, positionals: string[]): void {
  const wanted = spec.positionals ?? [];
  const see = `see "srdiff ${spec.name} --help"`;
  if (positionals.length > wanted.length) {
    const extra = positionals.slice(wanted.length).map((p) => `"${p}"`).join(' ');
    const takes = wanted.length ? `takes ${wanted.length}: ${wanted.map((w) => `<${w}>`).join(' ')}` : 'takes no positional arguments (options start with --)';
    throw new UsageError(`unexpected argument${positionals.length - wanted.length > 1 ? 's' : ''} ${extra}: "srdiff ${spec.name}" ${takes}; ${see}`, spec.name);
  }
  if (positionals.length < wanted.length) {
    throw new UsageError(`missing <${wanted[positionals.length]}>; usage: ${spec.usage}`, spec.name);
  }
}

/** "an integer ≥ 1", "a number > 0", … as an error message states it. */
function numberKind(opt: OptionSpec): string {
  const bounds = [
    opt.min !== undefined ? `≥ ${opt.min}` : '',
    opt.greaterThan !== undefined ? `> ${opt.greaterThan}` : '',
    opt.max !== undefined ? `≤ ${opt.max}` : '',
  ].filter(Boolean);
  return `${opt.integer ? 'an integer' : 'a number'}${bounds.length ? ` ${bounds.join(' and ')}` : ''}`;
}

function inRange(opt: OptionSpec, v: number): boolean {
  return (
    Number.isFinite(v) &&
    (!opt.integer || Number.isInteger(v)) &&
    (opt.min === undefined || v >= opt.min) &&
    (opt.greaterThan === undefined || v > opt.greaterThan) &&
    (opt.max === undefined || v <= opt.max)
  );
}

function convert(name: string, opt: OptionSpec, raw: string, previous: ParsedOptions[string], command: string) {
  if (opt.type === 'number') {
    const v = Number(raw);
    if (raw.trim() === '' || !inRange(opt, v)) throw new UsageError(`--${name} must be ${numberKind(opt)}, got "${raw}"`, command);
    return v;
  }
  if (opt.choices && !opt.choices.includes(raw)) {
    throw new UsageError(`--${name} must be one of ${opt.choices.join(', ')}; got "${raw}"`, command);
  }
  if (opt.type === 'string[]') return [...((previous as string[] | undefined) ?? []), ...raw.split(',').filter(Boolean)];
  return raw;
}

export function formatHelp(spec: CommandSpec): string {
  const lines = [`srdiff ${spec.name} — ${spec.summary}`, '', `Usage: ${spec.usage}`, '', 'Options:'];
  const range = (o: OptionSpec) => (o.type === 'number' && (o.integer || o.min !== undefined || o.greaterThan !== undefined || o.max !== undefined) ? numberKind(o) : '');
  const rows = Object.entries(spec.options).map(([name, o]) => {
    const flag = `--${name}${o.type === 'boolean' ? '' : ` <${o.valueName ?? o.type}>`}${o.aliases?.length ? `, ${o.aliases.map((a) => `-${a}`).join(', ')}` : ''}`;
    const extra = [
      o.choices ? `one of: ${o.choices.join(', ')}` : '',
      range(o),
      o.default !== undefined && o.default !== false ? `default: ${Array.isArray(o.default) ? o.default.join(',') : o.default}` : '',
      o.required ? 'required' : '',
    ].filter(Boolean).join('; ');
    return [flag, o.description + (extra ? ` (${extra})` : '')];
  });
  rows.push(['--help, -h', 'show this help']);
  const width = Math.max(...rows.map((r) => r[0]!.length));
  for (const [flag, desc] of rows) lines.push(`  ${flag!.padEnd(width)}  ${desc}`);
  if (spec.examples?.length) lines.push('', 'Examples:', ...spec.examples.map((e) => `  ${e}`));
  return lines.join('\n');
}
