import type { TensorDict } from '@srdiff/core';
import { describeConfig, type UNetConfig } from './config';

/**
 * Reads the configuration a ConditionalUNet state dict was built with off its keys and shapes:
 * nf and in_nc from `init_conv.weight` [nf, 2·in_nc, 7, 7], out_nc from `final_conv.weight`, the
 * depth and ch_mult from `downs.L.3.weight` [nf·ch_mult[L], …], context_dim from the
 * cross-attention's `attn2.to_k.weight` or the prompt path's `text_mlp.0.weight`. Returns
 * undefined when the dict is not a ConditionalUNet's. Without any context path, context_dim is
 * reported as null (no parameter depends on it).
 */
export function inferUnetConfig(dict: TensorDict): UNetConfig | undefined {
  const shape = (key: string) => (dict[key] ?? dict[`module.${key}`])?.shape;
  const init = shape('init_conv.weight');
  const final = shape('final_conv.weight');
  if (!init || init.length !== 4 || !final || final.length !== 4 || init[1]! % 2 !== 0) return undefined;
  const nf = init[0]!;
  const chMult: number[] = [];
  for (let level = 0; shape(`downs.${level}.0.block1.proj.weight`); level++) {
    const down = shape(`downs.${level}.3.weight`);
    if (!down || down[0]! % nf !== 0) return undefined;
    chMult.push(down[0]! / nf);
  }
  if (chMult.length === 0) return undefined;
  const toK = shape('mid_attn.fn.fn.transformer_blocks.0.attn2.to_k.weight');
  const text = shape('text_mlp.0.weight');
  return {
    in_nc: init[1]! / 2,
    out_nc: final[0]!,
    nf,
    ch_mult: chMult,
    context_dim: toK ? toK[1]! : text ? text[1]! : null,
    use_degra_context: shape('prompt') !== undefined,
    use_image_context: toK !== undefined,
  };
}

/** The options in which two configs differ, e.g. `nf 16 → 64` (context_dim ignored when neither uses it). */
export function configDifferences(mine: UNetConfig, theirs: UNetConfig): string[] {
  const usesContext = (c: UNetConfig) => c.use_degra_context || c.use_image_context;
  const out: string[] = [];
  for (const key of ['in_nc', 'out_nc', 'nf', 'ch_mult', 'context_dim', 'use_degra_context', 'use_image_context'] as const) {
    if (key === 'context_dim' && !(usesContext(mine) && usesContext(theirs))) continue;
    const a = JSON.stringify(mine[key]);
    const b = JSON.stringify(theirs[key]);
    if (a !== b) out.push(`${key} ${a} → ${b}`);
  }
  return out;
}

/** The hint appended to a state-dict mismatch: which config the weights look like. */
export function mismatchHint(mine: UNetConfig, dict: TensorDict): string {
  const theirs = inferUnetConfig(dict);
  if (!theirs) return 'the weights do not look like a ConditionalUNet state dict (no init_conv.weight / final_conv.weight / downs.L.* keys)';
  const diff = configDifferences(mine, theirs);
  const looks = `the weights look like a ConditionalUNet built with ${describeConfig(theirs)}`;
  return diff.length ? `${looks}; this model differs in ${diff.join(', ')}` : `${looks} (the same config: the file may be damaged)`;
}
