import { ArenaSpace, OrtTrainingSession, type HostTensor, type OrtSessionOptions, type ParameterArena, type TensorDict } from '@srdiff/core';
import type { UNetConfig, UNetOptions } from '../../config';
import { buildUnetTrainingGraph, gradientOutputName, UNET_TRAINING_IO, type UnetTrainingGraph, type UnetTrainingGraphOptions } from './unet-training-graph';

/** One batch for a training step: images NHWC `[B, H, W, C]` as the data pipeline makes them. */
export interface UnetTrainingBatch {
  /** x_t. */
  state: HostTensor;
  /** The LQ image (= mu = the condition). */
  lq: HostTensor;
  /** The optimal x_{t−1} (`IRSDE.reverseOptimumStep(state, gt, lq, t)`). */
  optimum: HostTensor;
  /** The float time the network receives, one per image. */
  time: Float32Array;
  /** `[B, context_dim]` for networks with image context. */
  imageContext?: HostTensor;
  /** The loss coefficients for these timesteps (`matchingLossCoefficients` of `@srdiff/sde`). */
  coefficients: Record<string, Float32Array>;
}

/**
 * The ConditionalUNet's training step on ONNX Runtime: the graph of {@link buildUnetTrainingGraph}
 * with the weights and gradients in host arenas ({@link ParameterArena}, PyTorch layouts, every
 * parameter of the state dict in its order). `gradients(batch)` runs forward, loss and backward in
 * one session call and leaves d loss / d weight in {@link grads}; the caller's optimizer then
 * updates {@link params} in place.
 */
export class OnnxUnetTrainer {
  private constructor(
    readonly graph: UnetTrainingGraph,
    readonly params: ParameterArena,
    readonly grads: ParameterArena,
    private readonly session: OrtTrainingSession,
    readonly shape: { batch: number; height: number; width: number },
  ) {}

  /**
   * Builds the step for `weights` (a full state dict, copied into the arena) at a fixed batch and
   * patch size; `session` picks threads and execution providers (`['cuda', 'cpu']`).
   */
  static async create(weights: TensorDict, config: UNetOptions | UNetConfig, options: UnetTrainingGraphOptions & { session?: OrtSessionOptions }): Promise<OnnxUnetTrainer> {
    const graph = buildUnetTrainingGraph(weights, config, options);
    // Room for the weights, their gradients and an optimizer's two moments in one wasm memory (HostAdamW's SIMD update).
    const params = ArenaSpace.fromTensorDict(weights, 4);
    const grads = params.zerosLike();
    const session = await OrtTrainingSession.create(
      { bytes: graph.bytes, parameters: graph.parameters, loss: UNET_TRAINING_IO.loss, gradientOf: gradientOutputName },
      params, grads, options.session,
    );
    return new OnnxUnetTrainer(graph, params, grads, session, { batch: options.batch, height: options.height, width: options.width });
  }

  get executionProviders(): readonly string[] {
    return this.session.executionProviders;
  }

  /** Forward, matching loss and backward for one batch; returns the loss, gradients in {@link grads}. */
  async gradients(batch: UnetTrainingBatch): Promise<number> {
    const { batch: b, height: h, width: w } = this.shape;
    const c = this.graph.config.in_nc;
    const image = (name: string, t: HostTensor) => {
      if (t.shape.length !== 4 || t.shape[0] !== b || t.shape[1] !== h || t.shape[2] !== w || t.shape[3] !== c) {
        throw new Error(`OnnxUnetTrainer: ${name} must be NHWC [${b}, ${h}, ${w}, ${c}] (the step's batch and patch size), got [${t.shape.join(', ')}]`);
      }
      return t;
    };
    const data: Record<string, HostTensor> = {
      [UNET_TRAINING_IO.state]: image('state', batch.state),
      [UNET_TRAINING_IO.lq]: image('lq', batch.lq),
      [UNET_TRAINING_IO.optimum]: image('optimum', batch.optimum),
      [UNET_TRAINING_IO.time]: { shape: [b], data: batch.time },
    };
    if (this.graph.config.use_image_context && this.graph.config.context_dim) {
      if (!batch.imageContext) throw new Error(`OnnxUnetTrainer: this network cross-attends to an image context: pass imageContext [${b}, ${this.graph.config.context_dim}]`);
      data[UNET_TRAINING_IO.imageContext] = batch.imageContext;
    }
    for (const [name, values] of Object.entries(batch.coefficients)) data[name] = { shape: [values.length], data: values };
    return this.session.run(data);
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
