import type { CommandSpec, ParsedOptions } from './args';

/** Context every command receives: parsed flags, positionals, and where to print. */
export interface CommandContext {
  options: ParsedOptions;
  positionals: string[];
  /** Results go to stdout; progress and logs to stderr. */
  out: (line: string) => void;
  log: (line: string) => void;
  /** Aborted on Ctrl-C (first press): commands stop at a safe point and save what they have. */
  signal: AbortSignal;
}

export interface Command {
  spec: CommandSpec;
  /** Resolves to the process exit code. */
  run(ctx: CommandContext): Promise<number>;
}
