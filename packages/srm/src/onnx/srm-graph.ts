import { GraphParameters, OnnxGraphBuilder, type ParameterMode, type TensorDict } from '@srdiff/core';
import { resolveSrmConfig, type SrmConfig } from '../config';

/** Default-domain opset of the exported SRM graph. */
export const SRM_ONNX_OPSET = 17;
export const SRM_ONNX_IO = { embedding: 'embedding', refined: 'refined' } as const;

export class SrmOnnxExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SrmOnnxExportError';
  }
}

/** A DDP state dict (`module.` before every key) is read under the plain names. */
function withoutModulePrefix(dict: TensorDict): TensorDict {
  const keys = Object.keys(dict);
  if (!keys.length || !keys.every((k) => k.startsWith('module.'))) return dict;
  return Object.fromEntries(keys.map((k) => [k.slice('module.'.length), dict[k]!]));
}

/** A built SRM graph: its output and where the weights went. */
export interface SrmGraph {
  g: OnnxGraphBuilder;
  refined: string;
  /** Weights that are graph inputs (`parameters: 'input'`), in order. */
  parameterInputs: readonly string[];
  /** Weights read but provably without influence (zero gradient): the q/k rows live in `in_proj_*`, so none here. */
  unusedParameters: readonly string[];
}

export interface SrmGraphOptions {
  source?: string;
  /** `'constant'` (default, inference) or `'input'` (weights as graph inputs, for the training graph). */
  parameters?: ParameterMode;
  /** Emit into this graph reading `embedding` instead of declaring the input; no output is declared. */
  into?: { g: OnnxGraphBuilder; embedding: string };
}

/**
 * Emits SR-Diff's Semantic Refinement Module (`CLSEnhancer`, `sr/CLSEnhancer.py`) as an ONNX graph:
 * input `embedding` `[B, inputDim]`, output `refined` `[B, inputDim]`, B dynamic.
 *
 *     out = upper_path(x) + lower_output_proj(sr_encoders(lower_input_proj(x)))
 *
 * The original runs on `x.unsqueeze(1)`, a sequence of length 1, where each encoder layer's
 * attention softmax is over one key and exactly 1: `MHA(a, a, a) = out_proj(v_proj(a))`. The graph
 * computes that from the v rows of `in_proj_*` (a slice of the packed weight, so in a training
 * graph its q/k rows get exactly zero gradient, as in PyTorch). Each layer is
 * `post_net(cat([x, m]))` with no residual, as in the original; GELU is the exact one.
 */
export function buildSrmGraph(stateDict: TensorDict, config: Partial<SrmConfig>, source = 'SRM state dict'): OnnxGraphBuilder {
  return emitSrmGraph(stateDict, config, { source }).g;
}

/** {@link buildSrmGraph} with the options of a training graph. */
export function emitSrmGraph(stateDict: TensorDict, config: Partial<SrmConfig>, options: SrmGraphOptions = {}): SrmGraph {
  const c = resolveSrmConfig(config);
  const { inputDim: D, hiddenDim: H } = c;
  const g = options.into?.g ?? new OnnxGraphBuilder('srdiff_semantic_refinement_module', { opset: SRM_ONNX_OPSET });
  const w = new GraphParameters(g, withoutModulePrefix(stateDict), { mode: options.parameters, source: options.source ?? 'SRM state dict', error: SrmOnnxExportError });
  const linear = (x: string, key: string, out: number, inp: number) =>
    g.scope(key, () => g.gemm(x, w.tensor(`${key}.weight`, [out, inp]), w.tensor(`${key}.bias`, [out])));
  const mlp = (x: string, key: string, inp: number, hidden: number, out: number) => linear(g.gelu(linear(x, `${key}.0`, hidden, inp)), `${key}.2`, out, hidden);

  const x = options.into?.embedding ?? g.input(SRM_ONNX_IO.embedding, ['batch', D]);
  const upper = mlp(x, 'upper_path', D, H, D);
  let lower = linear(x, 'lower_input_proj', H, D);
  for (let i = 0; i < c.numLayers; i++) {
    const p = `sr_encoders.${i}`;
    lower = g.scope(p, () => {
      const a = linear(lower, `${p}.pre_linear`, H, H);
      const inW = w.tensor(`${p}.mha.in_proj_weight`, [3 * H, H]);
      const inB = w.tensor(`${p}.mha.in_proj_bias`, [3 * H]);
      const v = g.gemm(a, g.slice(inW, [2 * H], [3 * H], [0]), g.slice(inB, [2 * H], [3 * H], [0]));
      const m = linear(v, `${p}.mha.out_proj`, H, H);
      return mlp(g.concat([lower, m], 1), `${p}.post_net`, 2 * H, H, H);
    });
  }
  const out = g.add(upper, linear(lower, 'lower_output_proj', D, H));
  const refined = options.into ? out : g.output(out, { as: SRM_ONNX_IO.refined, shape: ['batch', D] });
  w.assertAllUsed();
  return { g, refined, parameterInputs: w.inputNames, unusedParameters: w.unusedNames };
}
