import { buildGradients, OnnxGraphBuilder, type TensorDict } from '@srdiff/core';
import { emitMatchingLoss } from '@srdiff/sde';
import { planLevels, resolveUnetConfig, type UNetConfig, type UNetOptions } from '../../config';
import { emitUnetGraph, UNET_ONNX_OPSET } from '../unet-graph';

/** Names of the training graph's data inputs and its loss output (gradients are `grad.<parameter>`). */
export const UNET_TRAINING_IO = {
  /** x_t, NHWC `[B, H, W, C]` (the data pipeline's layout; transposed inside). */
  state: 'state',
  /** The LQ image = mu = the condition, NHWC. */
  lq: 'lq',
  /** The optimal x_{t−1} given the GT (`IRSDE.reverseOptimumStep`), NHWC. */
  optimum: 'optimum',
  /** The float time the network receives, `[B]`. */
  time: 'time',
  /** The semantic context `[B, context_dim]` (networks with image context). */
  imageContext: 'image_context',
  loss: 'loss',
  /** The network's output, NCHW (only with `outputNoise`). */
  noise: 'noise',
} as const;

export const gradientOutputName = (parameter: string): string => `grad.${parameter}`;

export interface UnetTrainingGraphOptions {
  batch: number;
  height: number;
  width: number;
  /** `train.loss_type` and `train.weight`. */
  loss?: { type: 'l1' | 'l2'; weight: number };
  /** Also output the predicted noise (parity checks). */
  outputNoise?: boolean;
}

export interface UnetTrainingGraph {
  bytes: Uint8Array;
  config: UNetConfig;
  /** Every parameter the step reads (graph inputs under their state-dict names), in feed order. */
  parameters: readonly string[];
  /** Parameters that provably do not influence the loss: their gradient is exactly zero. */
  unusedParameters: readonly string[];
  /** Forward nodes / total nodes of the graph. */
  nodes: { forward: number; total: number };
}

/**
 * One training step of the ConditionalUNet as a single ONNX graph: the network (the inference
 * emitter, weights as graph inputs), IR-SDE's matching loss, and its reverse-mode gradient with
 * respect to every weight, derived from the forward graph. Inputs: the weights (PyTorch names and
 * layouts), `state`, `lq`, `optimum` (NHWC), `time`, `image_context` and the loss coefficients of
 * `@srdiff/sde`; outputs `loss` and `grad.<name>` for each parameter. Shapes are static (batch
 * and patch size of the run): the backward pass is laid out for them.
 */
export function buildUnetTrainingGraph(stateDict: TensorDict, options: UNetOptions | UNetConfig, graph: UnetTrainingGraphOptions): UnetTrainingGraph {
  const config = resolveUnetConfig(options);
  const plan = planLevels(config);
  const { batch, height, width } = graph;
  for (const [name, v] of Object.entries({ batch, height, width })) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`buildUnetTrainingGraph: ${name} must be a positive integer, got ${v}`);
  }
  const g = new OnnxGraphBuilder('srdiff_conditional_unet_training_step', { opset: UNET_ONNX_OPSET });
  const nhwc = [batch, height, width, config.in_nc];
  const toNchw = (name: string) => g.transpose(g.input(name, nhwc), [0, 3, 1, 2]);
  const state = toNchw(UNET_TRAINING_IO.state);
  const lq = toNchw(UNET_TRAINING_IO.lq);
  const optimum = toNchw(UNET_TRAINING_IO.optimum);
  const time = g.input(UNET_TRAINING_IO.time, [batch]);
  const imageContext = plan.imageContext ? g.input(UNET_TRAINING_IO.imageContext, [batch, config.context_dim!]) : undefined;
  const net = emitUnetGraph(stateDict, config, { parameters: 'input', into: { g, xt: state, cond: lq, time, imageContext }, source: 'ConditionalUNet training graph' });
  const forwardNodes = g.stats.nodes;
  const loss = emitMatchingLoss(g, net.noise, state, lq, optimum, { ...(graph.loss ?? { type: 'l1', weight: 1 }), batch });
  const { grads } = buildGradients(g, { loss, wrt: net.parameterInputs });
  g.output(loss, { as: UNET_TRAINING_IO.loss });
  if (graph.outputNoise) g.output(net.noise, { as: UNET_TRAINING_IO.noise });
  for (const p of net.parameterInputs) g.output(grads[p]!, { as: gradientOutputName(p) });
  return {
    bytes: g.serialize({ producerName: '@srdiff/unet', docString: 'SR-Diff ConditionalUNet training step: IR-SDE matching loss and every weight gradient.' }),
    config,
    parameters: net.parameterInputs,
    unusedParameters: net.unusedParameters,
    nodes: { forward: forwardNodes, total: g.stats.nodes },
  };
}
