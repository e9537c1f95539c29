import { OnnxGraphBuilder, type TensorDict } from '@srdiff/core';
import { visionTokens, type BlipConfig } from './blip-config';
import { layerNorm, type BlipEmitContext } from './emit-context';
import { emitTextDecoderLayerPosition0 } from './emitters/text-decoder-layer';
import { emitTextEmbeddingPosition0 } from './emitters/text-embeddings';
import { emitVisionEmbeddings } from './emitters/vision-embeddings';
import { emitVisionEncoderLayer } from './emitters/vision-encoder-layer';
import { BlipWeightSource } from './weight-source';

/** Default-domain opset of the graph (LayerNormalization needs 17). */
export const BLIP_ONNX_OPSET = 17;

/** Names of the graph's input, output and debug outputs. */
export const BLIP_ONNX_IO = {
  pixelValues: 'pixel_values',
  cls: 'cls',
  visionLastHiddenState: 'debug.vision_last_hidden_state',
  /** `debug.decoder_pos0.<i>`: position 0 after the embeddings (0) and after decoder layer i − 1. */
  decoderPosition0: (i: number) => `debug.decoder_pos0.${i}`,
} as const;

/** State-dict keys the CLS embedding does not depend on. */
export function isUnusedBlipKey(key: string): boolean {
  // The LM head (logits over the vocabulary) and the position-id buffer older checkpoints saved.
  return key.startsWith('text_decoder.cls.predictions.') || key === 'text_decoder.bert.embeddings.position_ids';
}

export interface BlipGraphOptions {
  /** The id of the tokenizer's `[CLS]` token (position 0 of the original's `input_ids`). */
  clsTokenId: number;
  /** Also output the vision `last_hidden_state` and the decoder's position-0 state after the embeddings and every layer. */
  debugOutputs?: boolean;
  /** Where the weights came from, for error messages. */
  source?: string;
}

/**
 * The original SR-Diff's `get_cls_embedding` as one ONNX graph, from a
 * `BlipForConditionalGeneration` state dict (PyTorch names): the vision model on
 * `pixel_values` `[B, 3, S, S]` (NCHW, S = `vision_config.image_size`), then the text decoder's
 * last hidden state at position 0 with the image tokens as cross-attention context: `cls`
 * `[B, text hidden]`. B is dynamic. Pure graph building: no file or Node APIs.
 */
export function buildBlipGraph(stateDict: TensorDict, config: BlipConfig, options: BlipGraphOptions): OnnxGraphBuilder {
  const { vision_config: vision, text_config: text } = config;
  const g = new OnnxGraphBuilder('srdiff_blip_cls_embedding', { opset: BLIP_ONNX_OPSET });
  const w = new BlipWeightSource(stateDict, options.source ?? 'BLIP state dict');
  const recorded = new Map<string, string>();
  const ctx: BlipEmitContext = { g, w, record: (name, tensor) => (recorded.set(name, tensor), tensor) };
  w.skip(isUnusedBlipKey);

  const size = vision.image_size;
  const pixels = g.input(BLIP_ONNX_IO.pixelValues, ['batch', 3, size, size]);
  let x = emitVisionEmbeddings(ctx, pixels, vision);
  for (let i = 0; i < vision.num_hidden_layers; i++) x = emitVisionEncoderLayer(ctx, i, x, vision);
  const image = ctx.record(BLIP_ONNX_IO.visionLastHiddenState, g.scope('vision_model.post_layernorm', () => layerNorm(ctx, 'vision_model.post_layernorm', x, vision.hidden_size, vision.layer_norm_eps)));

  const hidden = text.hidden_size;
  const embedded = emitTextEmbeddingPosition0(ctx, text, options.clsTokenId); // [1, 1, hidden], the same for every image
  const batchShape = g.concat([g.shape(image, 0, 1), g.constInt64([1, hidden])], 0);
  let h = ctx.record(BLIP_ONNX_IO.decoderPosition0(0), g.op('Expand', [embedded, batchShape]));
  for (let i = 0; i < text.num_hidden_layers; i++) h = ctx.record(BLIP_ONNX_IO.decoderPosition0(i + 1), emitTextDecoderLayerPosition0(ctx, i, h, image, text));
  g.output(g.reshape(h, [-1, hidden]), { as: BLIP_ONNX_IO.cls, shape: ['batch', hidden] });
  w.assertAllUsed();

  if (options.debugOutputs) {
    g.output(image, { as: BLIP_ONNX_IO.visionLastHiddenState, shape: ['batch', visionTokens(vision), vision.hidden_size] });
    for (let i = 0; i <= text.num_hidden_layers; i++) {
      g.output(g.reshape(recorded.get(BLIP_ONNX_IO.decoderPosition0(i))!, [-1, hidden]), { as: BLIP_ONNX_IO.decoderPosition0(i), shape: ['batch', hidden] });
    }
  }
  return g;
}
