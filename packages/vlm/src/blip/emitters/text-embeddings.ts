import type { BlipTextConfig } from '../blip-config';
import { BlipWeightsError } from '../weight-source';
import { weight, type BlipEmitContext } from '../emit-context';

/**
 * `BlipTextEmbeddings` at position 0: `LayerNorm(word_embeddings[token] + position_embeddings[0])`
 * (absolute positions, no token-type embedding), `[1, 1, hidden]`. The token is `[CLS]`: the
 * original calls `text_decoder` directly with the processor's `input_ids` `[CLS, SEP, PAD…]`, so
 * `generate`'s `[DEC]` substitution never happens. Only the rows used enter the graph; the tables
 * are read (and shape-checked) whole.
 */
export function emitTextEmbeddingPosition0(ctx: BlipEmitContext, text: BlipTextConfig, tokenId: number): string {
  const { g } = ctx;
  const p = 'text_decoder.bert.embeddings';
  const hidden = text.hidden_size;
  if (!Number.isInteger(tokenId) || tokenId < 0 || tokenId >= text.vocab_size) {
    throw new BlipWeightsError(`the [CLS] token id ${tokenId} is outside the vocabulary (vocab_size ${text.vocab_size})`);
  }
  const words = ctx.w.take(`${p}.word_embeddings.weight`, [text.vocab_size, hidden]);
  const positions = ctx.w.take(`${p}.position_embeddings.weight`, [text.max_position_embeddings, hidden]);
  return g.scope(p, () => {
    const word = g.initializer(`${p}.word_embeddings.weight[${tokenId}]`, words.data.slice(tokenId * hidden, (tokenId + 1) * hidden), [1, 1, hidden]);
    const position = g.initializer(`${p}.position_embeddings.weight[0]`, positions.data.slice(0, hidden), [1, 1, hidden]);
    return g.layerNorm(g.add(word, position), weight(ctx, `${p}.LayerNorm.weight`, [hidden]), weight(ctx, `${p}.LayerNorm.bias`, [hidden]), text.layer_norm_eps);
  });
}
