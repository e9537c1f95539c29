import { OnnxGraphBuilder, type HostTensor, type TensorDict } from '@srdiff/core';
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

/** Reads state-dict tensors with shape checks and reports keys nobody read. */
class Weights {
  private readonly used = new Set<string>();
  constructor(private readonly dict: TensorDict, private readonly source: string) {}

  take(name: string, shape: number[]): HostTensor {
    const t = this.dict[name] ?? this.dict[`module.${name}`];
    if (!t) throw new SrmOnnxExportError(`${this.source}: missing key "${name}" (expected shape [${shape.join(', ')}])`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new SrmOnnxExportError(`${this.source}: "${name}" has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
    }
    this.used.add(this.dict[name] ? name : `module.${name}`);
    return t;
  }

  assertAllUsed(): void {
    const unexpected = Object.keys(this.dict).filter((k) => !this.used.has(k));
    if (unexpected.length) throw new SrmOnnxExportError(`${this.source}: unexpected key(s) for this config: ${unexpected.slice(0, 10).map((k) => `"${k}"`).join(', ')}`);
  }
}

/**
 * Emits SR-Diff's Semantic Refinement Module (`CLSEnhancer`, `sr/CLSEnhancer.py`) as an ONNX graph:
 * input `embedding` `[B, inputDim]`, output `refined` `[B, inputDim]`, B dynamic.
 *
 *     out = upper_path(x) + lower_output_proj(sr_encoders(lower_input_proj(x)))
 *
 * The original runs on `x.unsqueeze(1)`, a sequence of length 1, where each encoder layer's
 * attention softmax is over one key and exactly 1: `MHA(a, a, a) = out_proj(v_proj(a))`. The graph
 * computes that (the q/k rows of `in_proj_*` are checked and left out; they cannot change the output).
 * Each layer is `post_net(cat([x, m]))` with no residual, as in the original; GELU is the exact one.
 */
export function buildSrmGraph(stateDict: TensorDict, config: Partial<SrmConfig>, source = 'SRM state dict'): OnnxGraphBuilder {
  const c = resolveSrmConfig(config);
  const { inputDim: D, hiddenDim: H } = c;
  const g = new OnnxGraphBuilder('srdiff_semantic_refinement_module', { opset: SRM_ONNX_OPSET });
  const w = new Weights(stateDict, source);
  const linear = (x: string, key: string, out: number, inp: number) =>
    g.scope(key, () => g.gemm(x, g.initializer(`${key}.weight`, w.take(`${key}.weight`, [out, inp]).data, [out, inp]), g.initializer(`${key}.bias`, w.take(`${key}.bias`, [out]).data, [out])));
  const mlp = (x: string, key: string, inp: number, hidden: number, out: number) => linear(g.gelu(linear(x, `${key}.0`, hidden, inp)), `${key}.2`, out, hidden);

  const x = g.input(SRM_ONNX_IO.embedding, ['batch', D]);
  const upper = mlp(x, 'upper_path', D, H, D);
  let lower = linear(x, 'lower_input_proj', H, D);
  for (let i = 0; i < c.numLayers; i++) {
    const p = `sr_encoders.${i}`;
    lower = g.scope(p, () => {
      const a = linear(lower, `${p}.pre_linear`, H, H);
      const inW = w.take(`${p}.mha.in_proj_weight`, [3 * H, H]);
      const inB = w.take(`${p}.mha.in_proj_bias`, [3 * H]);
      const v = g.gemm(a, g.initializer(`${p}.mha.in_proj_weight[v]`, inW.data.subarray(2 * H * H), [H, H]), g.initializer(`${p}.mha.in_proj_bias[v]`, inB.data.subarray(2 * H), [H]));
      const m = linear(v, `${p}.mha.out_proj`, H, H);
      return mlp(g.concat([lower, m], 1), `${p}.post_net`, 2 * H, H, H);
    });
  }
  const out = g.add(upper, linear(lower, 'lower_output_proj', D, H));
  g.output(out, { as: SRM_ONNX_IO.refined, shape: ['batch', D] });
  w.assertAllUsed();
  return g;
}
