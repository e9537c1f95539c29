import { rows, weight, type EmitContext } from '../emit-context';

/**
 * The original's `ResBlock` (module_util.py): `(scale, shift) = Linear(SiLU(t)).chunk(2)`;
 * `h = SiLU(conv3x3(x)·(scale + 1) + shift)`; `h = SiLU(conv3x3(h))`; `h + res_conv(x)` (1×1, only
 * when the widths differ). Convs have no bias. `timeAct` is SiLU(t), shared by every block.
 *
 * The scale and shift halves of `mlp.1` become two Gemms on row slices of its weight, and the
 * `+ 1` is folded into the scale bias (in an inference graph ORT folds both into constants).
 */
export function emitResBlock(ctx: EmitContext, path: string, x: string, timeAct: string, dimIn: number, dimOut: number, timeDim: number): string {
  const { g } = ctx;
  return g.scope(path, () => {
    const mlpW = weight(ctx, `${path}.mlp.1.weight`, [2 * dimOut, timeDim]);
    const mlpB = weight(ctx, `${path}.mlp.1.bias`, [2 * dimOut]);
    const scaleB = g.add(rows(ctx, mlpB, 0, dimOut), g.constFloat(1));
    const scale = g.unsqueeze(g.gemm(timeAct, rows(ctx, mlpW, 0, dimOut), scaleB), [2, 3]);
    const shift = g.unsqueeze(g.gemm(timeAct, rows(ctx, mlpW, dimOut, 2 * dimOut), rows(ctx, mlpB, dimOut, 2 * dimOut)), [2, 3]);

    const conv1 = g.conv(x, weight(ctx, `${path}.block1.proj.weight`, [dimOut, dimIn, 3, 3]), undefined, { pads: [1, 1, 1, 1] });
    const h1 = g.silu(g.add(g.mul(conv1, scale), shift));
    const h2 = g.silu(g.conv(h1, weight(ctx, `${path}.block2.proj.weight`, [dimOut, dimOut, 3, 3]), undefined, { pads: [1, 1, 1, 1] }));
    const residual = dimIn === dimOut ? x : g.conv(x, weight(ctx, `${path}.res_conv.weight`, [dimOut, dimIn, 1, 1]), undefined);
    return ctx.record(path, g.add(h2, residual));
  });
}
