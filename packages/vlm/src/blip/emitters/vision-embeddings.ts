import type { BlipVisionConfig } from '../blip-config';
import { visionTokens } from '../blip-config';
import { weight, type BlipEmitContext } from '../emit-context';

/**
 * `BlipVisionEmbeddings`: a patch convolution (kernel = stride = patch size) turns
 * `pixel_values` `[B, 3, S, S]` into `[B, hidden, S/p, S/p]`, flattened to patch tokens
 * `[B, (S/p)², hidden]`; the learned class embedding is prepended and the position embedding
 * added: `[B, tokens, hidden]`.
 */
export function emitVisionEmbeddings(ctx: BlipEmitContext, pixelValues: string, vision: BlipVisionConfig): string {
  const { g } = ctx;
  const p = 'vision_model.embeddings';
  const hidden = vision.hidden_size;
  const tokens = visionTokens(vision);
  return g.scope(p, () => {
    const conv = g.conv(pixelValues, weight(ctx, `${p}.patch_embedding.weight`, [hidden, vision.num_channels, vision.patch_size, vision.patch_size]), weight(ctx, `${p}.patch_embedding.bias`, [hidden]), {
      strides: [vision.patch_size, vision.patch_size],
    });
    // [B, hidden, h, w] → [B, hidden, h·w] → [B, h·w, hidden] (patch_embeds.flatten(2).transpose(1, 2))
    const patches = g.transpose(g.reshape(conv, [0, hidden, -1]), [0, 2, 1]);
    const classEmbedding = weight(ctx, `${p}.class_embedding`, [1, 1, hidden]);
    // class_embedding.expand(B, 1, hidden): the batch size comes from the patches.
    const batchShape = g.concat([g.shape(patches, 0, 1), g.constInt64([1, hidden])], 0);
    const classTokens = g.op('Expand', [classEmbedding, batchShape]);
    const embeddings = g.concat([classTokens, patches], 1);
    return g.add(embeddings, weight(ctx, `${p}.position_embedding`, [1, tokens, hidden]));
  });
}
