import { addGraphOutput, findProducer } from '../onnx/graph-outputs';

/**
 * CLIP's exported vision graphs output `image_embeds` (projected) and `last_hidden_state` (before
 * the post-LayerNorm), but not HF's `pooler_output` = post_layernorm(last_hidden_state[:, 0]), the
 * vision CLS before projection. It is the input of the projection, `image_embeds =
 * visual_projection(pooled)` (a bias-free Linear, exported as MatMul), so it is found by wiring
 * and exposed as an extra output: ONNX Runtime then computes it in the same pass, with the
 * model's own LayerNorm weights.
 */
export function exposePooledOutput(model: Uint8Array, source: string): { model: Uint8Array; outputName: string } {
  const producer = findProducer(model, 'image_embeds');
  if (!producer) {
    throw new Error(`${source}: no node produces 'image_embeds'; output 'pooled' needs a CLIPVisionModelWithProjection export`);
  }
  if (producer.opType !== 'MatMul' && producer.opType !== 'Gemm') {
    throw new Error(
      `${source}: 'image_embeds' is produced by ${producer.opType}, not the projection MatMul, so the pooled ` +
        `embedding cannot be located (quantized models are not supported with output 'pooled'; use quantized: false)`,
    );
  }
  const outputName = producer.inputs[0]!;
  return { model: addGraphOutput(model, outputName), outputName };
}
