import type { OnnxGraphBuilder } from '@srdiff/core';

/**
 * The original's `check_image_size`: reflect-pad bottom/right to a multiple of `multiple`
 * (`pad = (m - n % m) % m`), with the pads computed in the graph from the input's shape so height
 * and width stay dynamic. Returns the padded tensor and the original `[H, W]` (int64) for the crop.
 */
export function emitReflectPadToMultiple(g: OnnxGraphBuilder, x: string, multiple: number): { padded: string; size: string } {
  return g.scope('pad', () => {
    const size = g.shape(x, 2, 4);
    const m = g.constInt64([multiple]);
    const pad = g.op('Mod', [g.sub(m, g.op('Mod', [size, m])), m]);
    const pads = g.concat([g.constInt64([0, 0, 0, 0, 0, 0]), pad], 0);
    return { padded: g.op('Pad', [x, pads], { mode: 'reflect' }), size };
  });
}

/** `x[..., :H, :W]` with `size` = `[H, W]` from {@link emitReflectPadToMultiple}. */
export function emitCropTo(g: OnnxGraphBuilder, x: string, size: string): string {
  return g.op('Slice', [x, g.constInt64([0, 0]), size, g.constInt64([2, 3])]);
}
