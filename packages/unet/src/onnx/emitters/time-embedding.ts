import { weight, type EmitContext } from '../emit-context';

/**
 * `SinusoidalPosEmb(nf)` frequencies as the original computes them in float32:
 * `exp(arange(half) · -(ln(10000) / (half - 1)))`, each step rounded to float32.
 */
export function sinusoidalFrequencies(dim: number): Float32Array {
  const half = dim / 2;
  const step = Math.fround(Math.log(10000) / (half - 1));
  return Float32Array.from({ length: half }, (_, i) => Math.exp(Math.fround(i * -step)));
}

/**
 * `time_mlp`: `[B]` float time → sinusoidal embedding `cat(sin, cos)` (sin first) → Linear(nf → 4nf)
 * → exact GELU → Linear(4nf → 4nf). Records `time_mlp.0.out`.
 */
export function emitTimeEmbedding(ctx: EmitContext, time: string, nf: number, timeDim: number): string {
  const { g } = ctx;
  return g.scope('time_mlp', () => {
    const freqs = g.constFloat(sinusoidalFrequencies(nf), [1, nf / 2]);
    const args = g.mul(g.unsqueeze(time, [1]), freqs);
    const emb = ctx.record('time_mlp.0', g.concat([g.op('Sin', [args]), g.op('Cos', [args])], 1));
    const h = g.gelu(g.gemm(emb, weight(ctx, 'time_mlp.1.weight', [timeDim, nf]), weight(ctx, 'time_mlp.1.bias', [timeDim])));
    return g.gemm(h, weight(ctx, 'time_mlp.3.weight', [timeDim, timeDim]), weight(ctx, 'time_mlp.3.bias', [timeDim]));
  });
}

/**
 * The prompt path (`use_degra_context`): `t + prompt_mlp(softmax(text_mlp(text), dim=1) · prompt)`,
 * with `text_mlp` = Linear(context → 4nf), SiLU, Linear(4nf → 4nf).
 */
export function emitPromptPath(ctx: EmitContext, t: string, text: string, contextDim: number, timeDim: number): string {
  const { g } = ctx;
  return g.scope('prompt', () => {
    const h = g.silu(g.gemm(text, weight(ctx, 'text_mlp.0.weight', [timeDim, contextDim]), weight(ctx, 'text_mlp.0.bias', [timeDim])));
    const logits = g.gemm(h, weight(ctx, 'text_mlp.2.weight', [timeDim, timeDim]), weight(ctx, 'text_mlp.2.bias', [timeDim]));
    const weighted = g.mul(g.softmax(logits, 1), weight(ctx, 'prompt', [1, timeDim]));
    const prompt = g.gemm(weighted, weight(ctx, 'prompt_mlp.weight', [timeDim, timeDim]), weight(ctx, 'prompt_mlp.bias', [timeDim]));
    return g.add(t, prompt);
  });
}
