import fs from 'node:fs';
import path from 'node:path';
import { readStateDictFile, writeSafetensors, type StateDictFile } from '@srdiff/core';
import { UsageError } from '../cli/args';
import type { Command } from '../cli/command';

/** Metadata key recording which file a converted state dict came from. */
export const CONVERTED_FROM_KEY = 'srdiff.converted_from';

/** True when `a` and `b` name the same file (also through links or `..`). */
function sameFile(a: string, b: string): boolean {
  if (path.resolve(a) === path.resolve(b)) return true;
  try {
    const [sa, sb] = [fs.statSync(a), fs.statSync(b)];
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false;
  }
}

function describe(read: StateDictFile): string {
  const parts: string[] = [read.format];
  if (read.key) parts.push(`its "${read.key}"`);
  if (read.strippedModulePrefix) parts.push('"module." stripped');
  return parts.join(', ');
}

export const convertCommand: Command = {
  spec: {
    name: 'convert',
    summary: "convert PyTorch weights (the original's .pth, pytorch_model.bin, a model folder) to a safetensors state dict",
    usage: 'srdiff convert <IN> <OUT.safetensors>',
    positionals: ['IN', 'OUT.safetensors'],
    options: {},
    examples: ['srdiff convert lastest_EMA.pth unet.safetensors', 'srdiff convert epoch_2000.pth srm.safetensors   # its model_state_dict'],
  },
  async run({ positionals, out }) {
    const [input, output] = positionals as [string, string];
    if (!output.endsWith('.safetensors')) throw new UsageError(`<OUT.safetensors> must end in .safetensors, got ${output}`, 'convert');
    if (!fs.existsSync(input)) throw new Error(`${input} does not exist`);
    if (sameFile(input, output)) throw new UsageError(`<OUT.safetensors> is the input file ${input}; convert never overwrites its input`, 'convert');
    // Keys and layouts stay PyTorch's; a DataParallel "module." prefix is stripped; an SRM epoch
    // checkpoint gives its model_state_dict. Values are written as float32 (what srdiff loads).
    const read = await readStateDictFile(input);
    const names = Object.keys(read.tensors);
    const values = names.reduce((n, k) => n + read.tensors[k]!.data.length, 0);
    await writeSafetensors(output, read.tensors, { format: 'pt', ...read.metadata, [CONVERTED_FROM_KEY]: path.basename(input) });
    const bytes = fs.statSync(output).size;
    out(`${input} (${describe(read)}) → ${output}: ${names.length} tensors, ${values.toLocaleString('en')} values as float32 (${(bytes / 1e6).toFixed(1)} MB)`);
    return 0;
  },
};
