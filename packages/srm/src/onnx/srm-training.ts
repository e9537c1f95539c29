import { ArenaSpace, buildGradients, OnnxGraphBuilder, OrtTrainingSession, type OrtSessionOptions, type ParameterArena, type TensorDict } from '@srdiff/core';
import { resolveSrmConfig, type SrmConfig } from '../config';
import { emitSrmGraph, SRM_ONNX_OPSET } from './srm-graph';

/** `nn.CosineEmbeddingLoss`'s guard on the squared norms (PyTorch's `EPSILON = 1e-12`), as the tfjs loss. */
const COSINE_EPS = 1e-12;

export const SRM_TRAINING_IO = { lq: 'lq', gt: 'gt', loss: 'loss' } as const;
export const srmGradientOutput = (parameter: string): string => `grad.${parameter}`;

/**
 * The hybrid loss of `sr/train.py` as ONNX ops, in the order of `hybridLoss`:
 * α·mean|pred − gt| + (1 − α)·mean_rows(1 − Σab / sqrt((Σa² + ε)(Σb² + ε))).
 */
export function emitHybridLoss(g: OnnxGraphBuilder, pred: string, target: string, alpha: number): string {
  return g.scope('hybrid_loss', () => {
    const l1 = g.reduceMean(g.op('Abs', [g.sub(pred, target)]), [0, 1], false);
    const dot = g.reduceSum(g.mul(pred, target), [1], false);
    const sq = (t: string) => g.add(g.reduceSum(g.mul(t, t), [1], false), g.constFloat(COSINE_EPS));
    const cosine = g.div(dot, g.op('Sqrt', [g.mul(sq(pred), sq(target))]));
    const cosineLoss = g.reduceMean(g.sub(g.constFloat(1), cosine), [0], false);
    return g.add(g.mul(l1, g.constFloat(alpha)), g.mul(cosineLoss, g.constFloat(1 - alpha)));
  });
}

export interface SrmTrainingGraph {
  bytes: Uint8Array;
  config: SrmConfig;
  parameters: readonly string[];
  batch: number;
}

/** The SRM's training step as one graph: forward (weights as inputs), hybrid loss, every gradient, for `batch` rows. */
export function buildSrmTrainingGraph(stateDict: TensorDict, config: Partial<SrmConfig>, options: { batch: number; alpha: number }): SrmTrainingGraph {
  const c = resolveSrmConfig(config);
  if (!Number.isInteger(options.batch) || options.batch < 1) throw new RangeError(`buildSrmTrainingGraph: batch must be a positive integer, got ${options.batch}`);
  const g = new OnnxGraphBuilder('srdiff_srm_training_step', { opset: SRM_ONNX_OPSET });
  const lq = g.input(SRM_TRAINING_IO.lq, [options.batch, c.inputDim]);
  const gt = g.input(SRM_TRAINING_IO.gt, [options.batch, c.inputDim]);
  const net = emitSrmGraph(stateDict, c, { parameters: 'input', into: { g, embedding: lq }, source: 'SRM training graph' });
  const loss = emitHybridLoss(g, net.refined, gt, options.alpha);
  const { grads } = buildGradients(g, { loss, wrt: net.parameterInputs });
  g.output(loss, { as: SRM_TRAINING_IO.loss });
  for (const p of net.parameterInputs) g.output(grads[p]!, { as: srmGradientOutput(p) });
  return { bytes: g.serialize({ producerName: '@srdiff/srm' }), config: c, parameters: net.parameterInputs, batch: options.batch };
}

/**
 * The SRM's training step on ONNX Runtime with weights and gradients in host arenas (PyTorch
 * names and layouts, every parameter of the state dict). One session per batch size (the last
 * batch of an epoch may be smaller), built on first use.
 */
export class OnnxSrmTrainer {
  readonly params: ParameterArena;
  readonly grads: ParameterArena;
  private readonly sessions = new Map<number, Promise<OrtTrainingSession>>();

  constructor(weights: TensorDict, readonly config: SrmConfig, private readonly alpha: number, private readonly sessionOptions: OrtSessionOptions = {}) {
    this.params = ArenaSpace.fromTensorDict(weights, 4); // + gradients and AdamW's moments
    this.grads = this.params.zerosLike();
  }

  private session(rows: number): Promise<OrtTrainingSession> {
    let s = this.sessions.get(rows);
    if (!s) {
      const graph = buildSrmTrainingGraph(this.params.toTensorDict(), this.config, { batch: rows, alpha: this.alpha });
      s = OrtTrainingSession.create({ bytes: graph.bytes, parameters: graph.parameters, loss: SRM_TRAINING_IO.loss, gradientOf: srmGradientOutput }, this.params, this.grads, this.sessionOptions);
      this.sessions.set(rows, s);
    }
    return s;
  }

  /** Loss of `lq` → `gt` (`[rows, inputDim]` each) and its gradients, left in {@link grads}. */
  async gradients(lq: Float32Array, gt: Float32Array, rows: number): Promise<number> {
    const D = this.config.inputDim;
    if (lq.length !== rows * D || gt.length !== rows * D) throw new Error(`OnnxSrmTrainer: expected ${rows} × ${D} values for lq and gt, got ${lq.length} and ${gt.length}`);
    const session = await this.session(rows);
    return session.run({ [SRM_TRAINING_IO.lq]: { shape: [rows, D], data: lq }, [SRM_TRAINING_IO.gt]: { shape: [rows, D], data: gt } });
  }

  async dispose(): Promise<void> {
    for (const s of this.sessions.values()) await (await s).release();
    this.sessions.clear();
  }
}
