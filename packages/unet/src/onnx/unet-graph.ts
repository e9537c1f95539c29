import { OnnxGraphBuilder, type ParameterMode, type TensorDict } from '@srdiff/core';
import { planLevels, resolveUnetConfig, type UNetConfig, type UNetOptions } from '../config';
import type { EmitContext } from './emit-context';
import { emitAttentionBlock, type ImageContext } from './emitters/attention-block';
import { emitCropTo, emitReflectPadToMultiple } from './emitters/padding';
import { emitResBlock } from './emitters/resblock';
import { emitDownsample, emitUpsample } from './emitters/resampling';
import { emitPromptPath, emitTimeEmbedding } from './emitters/time-embedding';
import { weight } from './emit-context';
import { OnnxExportError, WeightSource } from './weights';
import { selfAttentionFallbackWorks } from '../inputs';

/** Default-domain opset of the exported graph (LayerNormalization needs 17). */
export const UNET_ONNX_OPSET = 17;

/** Names of the graph's inputs and output. */
export const UNET_ONNX_IO = {
  xt: 'xt',
  cond: 'cond',
  time: 'time',
  imageContext: 'image_context',
  textContext: 'text_context',
  noise: 'noise',
} as const;

export interface UnetGraphOptions {
  /**
   * Also expose these module outputs (state-dict paths with `.out`, e.g. `downs.3.2.out`,
   * `mid_attn.out`, `time_mlp.out`, `init_conv.in`) as graph outputs named `debug.<path>`; they
   * have the padded size. For parity checks against the reference's `debug.*` tensors.
   */
  debugOutputs?: string[];
  /**
   * Add a `text_context` input `[B, context_dim]` for the prompt path (`use_degra_context`). SR-Diff
   * never passes one; without this option the prompt weights are ignored, as the original does
   * when `text_context` is None.
   */
  textContext?: boolean;
  /**
   * Leave out the `image_context` input: the SpatialTransformers' attn2 then attends to the tokens
   * themselves, as the original does when called without a context. That only works when
   * context_dim equals the width of every SpatialTransformer (the original crashes otherwise; so
   * does this option, with an explanation). SR-Diff always passes a context.
   */
  withoutImageContext?: boolean;
  /** Where the weights came from, for error messages. */
  source?: string;
  /**
   * `'constant'` (default): the weights are initializers (an inference graph). `'input'`: every
   * weight the graph reads is a graph input under its state-dict name (the training graph; the
   * dict then only supplies shapes).
   */
  parameters?: ParameterMode;
  /**
   * Emit the network into an existing graph, reading these tensors (NCHW) instead of declaring the
   * graph inputs `xt`, `cond`, `time`, `image_context`; the noise is then not a graph output
   * (a training graph feeds it to its loss).
   */
  into?: UnetGraphInputs;
}

/** The network's input tensors inside a graph another builder owns. */
export interface UnetGraphInputs {
  g: OnnxGraphBuilder;
  xt: string;
  cond: string;
  time: string;
  imageContext?: string;
}

/** A built UNet graph and where its weights went. */
export interface UnetGraph {
  g: OnnxGraphBuilder;
  /** The predicted noise `[B, out_nc, H, W]` (also the graph output `noise`). */
  noise: string;
  /** Weights that are graph inputs (`parameters: 'input'`), in order. */
  parameterInputs: readonly string[];
  /** Weights of the state dict that provably do not influence the output (zero gradient). */
  unusedParameters: readonly string[];
}

/**
 * Emits SR-Diff's ConditionalUNet as an ONNX graph from a PyTorch-layout state dict, module by
 * module as `DenoisingUNet_arch.py` builds it. NCHW inside; inputs `xt`, `cond` `[B, in_nc, H, W]`,
 * `time` `[B]` (float), `image_context` `[B, context_dim]` (when the network cross-attends);
 * output `noise` `[B, out_nc, H, W]`; B, H and W are dynamic, the reflect padding to a multiple of
 * 2^depth and the crop back happen inside the graph.
 */
export function buildUnetGraph(stateDict: TensorDict, options: UNetOptions | UNetConfig, graphOptions: UnetGraphOptions = {}): OnnxGraphBuilder {
  return emitUnetGraph(stateDict, options, graphOptions).g;
}

/** {@link buildUnetGraph}, also returning the output tensor and the weights' fate. */
export function emitUnetGraph(stateDict: TensorDict, options: UNetOptions | UNetConfig, graphOptions: UnetGraphOptions = {}): UnetGraph {
  const config = resolveUnetConfig(options);
  const plan = planLevels(config);
  const into = graphOptions.into;
  const g = into?.g ?? new OnnxGraphBuilder('srdiff_conditional_unet', { opset: UNET_ONNX_OPSET });
  const w = new WeightSource(g, stateDict, { mode: graphOptions.parameters, source: graphOptions.source ?? 'ConditionalUNet state dict' });
  const recorded = new Map<string, string>();
  const ctx: EmitContext = {
    g,
    w,
    record: (path, tensor) => {
      recorded.set(path.endsWith('.in') ? path : `${path}.out`, tensor);
      return tensor;
    },
  };
  const { nf, in_nc: inNc, out_nc: outNc } = config;
  const { timeDim } = plan;
  const contextDim = config.context_dim ?? 0;

  const xt = into?.xt ?? g.input(UNET_ONNX_IO.xt, ['batch', inNc, 'height', 'width']);
  const cond = into?.cond ?? g.input(UNET_ONNX_IO.cond, ['batch', inNc, 'height', 'width']);
  const time = into?.time ?? g.input(UNET_ONNX_IO.time, ['batch']);
  if (graphOptions.withoutImageContext && plan.imageContext && !selfAttentionFallbackWorks(config, plan)) {
    throw new OnnxExportError(
      'withoutImageContext: this network cross-attends to the image context and the original cannot run without one here: attn2 ' +
        `would attend to the tokens, whose widths differ from context_dim ${contextDim}; export with the image_context input instead`,
    );
  }
  if (into && plan.imageContext && !graphOptions.withoutImageContext && !into.imageContext) {
    throw new OnnxExportError(`into: this network cross-attends to an image context [B, ${contextDim}]; pass its tensor`);
  }
  const imageContext: ImageContext | undefined = !plan.imageContext
    ? undefined
    : graphOptions.withoutImageContext
      ? { dim: contextDim }
      : { tensor: into ? into.imageContext : g.input(UNET_ONNX_IO.imageContext, ['batch', contextDim]), dim: contextDim };
  if (graphOptions.textContext && !plan.degraContext) {
    throw new OnnxExportError(`textContext: this config has no prompt path (use_degra_context ${config.use_degra_context}, context_dim ${config.context_dim})`);
  }
  const text = graphOptions.textContext ? g.input(UNET_ONNX_IO.textContext, ['batch', contextDim]) : undefined;

  let t = emitTimeEmbedding(ctx, time, nf, timeDim);
  if (text) t = emitPromptPath(ctx, t, text, contextDim, timeDim);
  else if (plan.degraContext) w.skip(['prompt', 'text_mlp.0.weight', 'text_mlp.0.bias', 'text_mlp.2.weight', 'text_mlp.2.bias', 'prompt_mlp.weight', 'prompt_mlp.bias']);
  ctx.record('time_mlp', t);
  const timeAct = g.silu(t);

  const joined = g.concat([g.sub(xt, cond), cond], 1);
  const { padded, size } = emitReflectPadToMultiple(g, joined, plan.padMultiple);
  ctx.record('init_conv.in', padded);
  const initOut = ctx.record('init_conv', g.scope('init_conv', () => g.conv(padded, weight(ctx, 'init_conv.weight', [nf, 2 * inNc, 7, 7]), undefined, { pads: [3, 3, 3, 3] })));

  const skips: string[] = [];
  let x = initOut;
  for (const level of plan.levels) {
    const p = `downs.${level.index}`;
    const ctxHere = level.transformer ? imageContext : undefined;
    x = emitResBlock(ctx, `${p}.0`, x, timeAct, level.dimIn, level.dimIn, timeDim);
    skips.push(x);
    x = emitResBlock(ctx, `${p}.1`, x, timeAct, level.dimIn, level.dimIn, timeDim);
    x = emitAttentionBlock(ctx, `${p}.2`, x, level.dimIn, ctxHere);
    skips.push(x);
    x = emitDownsample(ctx, `${p}.3`, x, level.dimIn, level.dimOut, level.isDeepest);
  }
  x = emitResBlock(ctx, 'mid_block1', x, timeAct, plan.midDim, plan.midDim, timeDim);
  x = emitAttentionBlock(ctx, 'mid_attn', x, plan.midDim, imageContext);
  x = emitResBlock(ctx, 'mid_block2', x, timeAct, plan.midDim, plan.midDim, timeDim);
  [...plan.levels].reverse().forEach((level, i) => {
    const p = `ups.${i}`;
    const ctxHere = level.transformer ? imageContext : undefined;
    x = emitResBlock(ctx, `${p}.0`, g.concat([x, skips.pop()!], 1), timeAct, level.dimOut + level.dimIn, level.dimOut, timeDim);
    x = emitResBlock(ctx, `${p}.1`, g.concat([x, skips.pop()!], 1), timeAct, level.dimOut + level.dimIn, level.dimOut, timeDim);
    x = emitAttentionBlock(ctx, `${p}.2`, x, level.dimOut, ctxHere);
    x = emitUpsample(ctx, `${p}.3`, x, level.dimOut, level.dimIn, level.isShallowest);
  });
  x = emitResBlock(ctx, 'final_res_block', g.concat([x, initOut], 1), timeAct, 2 * nf, nf, timeDim);
  x = ctx.record('final_conv', g.scope('final_conv', () =>
    g.conv(x, weight(ctx, 'final_conv.weight', [outNc, nf, 3, 3]), weight(ctx, 'final_conv.bias', [outNc]), { pads: [1, 1, 1, 1] })));
  const cropped = emitCropTo(g, x, size);
  const noise = into ? cropped : g.output(cropped, { as: UNET_ONNX_IO.noise, shape: ['batch', outNc, 'height', 'width'] });
  w.assertAllUsed();

  for (const path of graphOptions.debugOutputs ?? []) {
    const tensor = recorded.get(path);
    if (!tensor) throw new OnnxExportError(`debugOutputs: no module output "${path}"; known: ${[...recorded.keys()].join(', ')}`);
    g.output(tensor, { as: `debug.${path}` });
  }
  return { g, noise, parameterInputs: w.inputNames, unusedParameters: w.unusedNames };
}
