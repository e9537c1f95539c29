import { UsageError, type OptionSpec } from '../cli/args';

/** Flags shared by the option-file commands. */
export const OPTION_FILE_FLAGS: Record<string, OptionSpec> = {
  opt: { type: 'string', valueName: 'FILE', description: 'options file (YAML with the original SR-Diff keys)', aliases: ['opt'] },
  set: { type: 'string[]', valueName: 'KEY=VALUE', description: 'override one option, e.g. --set train.niter=1000 (repeatable)' },
};

export const BACKEND_FLAG: OptionSpec = { type: 'string', description: 'TensorFlow.js backend', choices: ['auto', 'tensorflow', 'wasm', 'cpu'] };
export const ENGINE_FLAG: OptionSpec = { type: 'string', description: 'sampling engine (auto = onnx when onnxruntime-node loads)', choices: ['auto', 'onnx', 'tfjs'] };

/** `--set` values plus flag overrides that map onto option keys (flags win). */
export function collectSets(sets: unknown, flagOverrides: Record<string, unknown>): string[] {
  const out = [...((sets as string[] | undefined) ?? [])];
  for (const [key, value] of Object.entries(flagOverrides)) {
    if (value !== undefined) out.push(`${key}=${JSON.stringify(value)}`);
  }
  return out;
}

/** `--providers cuda,cpu` → `['cuda', 'cpu']` (ONNX Runtime execution providers in order). */
export function parseProviders(list: string): string[] {
  const providers = list.split(',').map((p) => p.trim()).filter(Boolean);
  if (!providers.length) throw new UsageError('--providers: give a comma-separated list, e.g. cuda,cpu');
  return providers;
}
