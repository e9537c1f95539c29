import type { HostTensor } from '../io/host-tensor';
import type { ParameterArena } from '../optim/host/parameter-arena';
import { createOrtSession, type OrtSessionHandle, type OrtSessionOptions, type OrtTensor } from './ort-session';

/** What a training-step graph declares: its weights (graph inputs), loss and gradient outputs. */
export interface TrainingGraphSpec {
  bytes: Uint8Array;
  /** Weights read by the graph (inputs under these names), each with a gradient output. */
  parameters: readonly string[];
  /** The scalar loss output. */
  loss: string;
  /** Output name of the gradient of `parameter`. */
  gradientOf(parameter: string): string;
}

/**
 * A training-step graph on ONNX Runtime with its weights and gradients in host arenas that stay in
 * place between steps: the weight inputs and the gradient outputs are ORT tensors over views of
 * the arenas, made once, so a step moves no parameter through JavaScript. The optimizer updates
 * the weight arena in place between runs; gradients of weights the graph does not read stay zero.
 */
export class OrtTrainingSession {
  private readonly weightFeeds: Record<string, OrtTensor>;
  private readonly fetches: Record<string, OrtTensor>;
  private readonly lossValue = new Float32Array(1);

  private constructor(readonly handle: OrtSessionHandle, readonly spec: TrainingGraphSpec, params: ParameterArena, grads: ParameterArena) {
    const { ort } = handle;
    this.weightFeeds = {};
    this.fetches = { [spec.loss]: new ort.Tensor('float32', this.lossValue, []) };
    for (const p of spec.parameters) {
      const slot = params.slot(p);
      this.weightFeeds[p] = new ort.Tensor('float32', params.view(p), slot.shape);
      this.fetches[spec.gradientOf(p)] = new ort.Tensor('float32', grads.view(p), slot.shape);
    }
  }

  /** Opens the graph; `params` and `grads` are arenas holding every parameter the graph reads. */
  static async create(spec: TrainingGraphSpec, params: ParameterArena, grads: ParameterArena, options: OrtSessionOptions = {}): Promise<OrtTrainingSession> {
    if (params.size !== grads.size) throw new Error('OrtTrainingSession: the weight and gradient arenas differ in layout');
    const missing = spec.parameters.filter((p) => !params.has(p));
    if (missing.length) throw new Error(`OrtTrainingSession: the graph reads parameters the arena lacks: ${missing.slice(0, 5).join(', ')}`);
    const handle = await createOrtSession(spec.bytes, options);
    return new OrtTrainingSession(handle, spec, params, grads);
  }

  /** The execution providers the session runs on (first = preferred). */
  get executionProviders(): readonly string[] {
    return this.handle.executionProviders;
  }

  /** One step on these data inputs: fills the gradient arena, returns the loss. */
  async run(data: Record<string, HostTensor>): Promise<number> {
    const { ort } = this.handle;
    const feeds: Record<string, OrtTensor> = { ...this.weightFeeds };
    for (const [name, t] of Object.entries(data)) feeds[name] = new ort.Tensor('float32', t.data, t.shape);
    // ORT writes the loss and every gradient into the preallocated fetches (the arenas' views).
    await this.handle.session.run(feeds, this.fetches);
    return this.lossValue[0]!;
  }

  async release(): Promise<void> {
    await this.handle.session.release();
  }
}
