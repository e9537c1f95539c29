import { Linear, Module, tf, type HostTensor, type LoadStateDictOptions, type TensorDict, linear } from '@srdiff/core';
import { resolveSrmConfig, SRM_DEFAULTS, type SrmConfig } from '../config';
import { refine, type RefineOptions } from '../refine-embeddings';
import { GeluMlp } from './gelu-mlp';
import { SREncoderLayer } from './sr-encoder-layer';

/** `nn.Sequential` of encoder layers, registered as `0`, `1`, ... */
class EncoderStack extends Module {
  readonly layers: SREncoderLayer[] = [];

  constructor(count: number, hiddenDim: number, numHeads: number) {
    super();
    for (let i = 0; i < count; i++) this.layers.push(this.addModule(String(i), new SREncoderLayer(hiddenDim, numHeads)));
  }
}

/** Intermediate outputs of one forward pass, named as the reference's `debug.*` keys. */
export interface SrmIntermediates {
  'upper_path.out': tf.Tensor2D;
  'lower_input_proj.out': tf.Tensor2D;
  'sr_encoders.out': tf.Tensor2D;
  'lower_output_proj.out': tf.Tensor2D;
}

export interface FromStateDictOptions extends Pick<LoadStateDictOptions, 'source'> {
  /**
   * Attention heads per encoder layer. Not recoverable from the weights (the packed projection
   * has the same shape for any head count); default 8, the original's. On the SRM's length-1
   * sequences the head count does not change the output.
   */
  numHeads?: number;
}

/**
 * SR-Diff's Semantic Refinement Module (`CLSEnhancer` of the original `sr/CLSEnhancer.py`): maps the
 * VLM embedding of a degraded image towards the embedding of its clean image. Two summed paths over
 * the embedding seen as a length-1 sequence:
 *
 *     upper = Linear(D→H) → GELU → Linear(H→D)
 *     lower = Linear(D→H) → numLayers × SREncoderLayer(H, heads) → Linear(H→D)
 *     out   = upper(x) + lower(x)
 *
 * State-dict keys and layouts are PyTorch's (`upper_path.0.weight`, `lower_input_proj.bias`,
 * `sr_encoders.0.mha.in_proj_weight`, ...), so weights of the original load after converting the
 * `.pth` to safetensors. Works on `[batch, inputDim]` float32 tensors.
 */
export class SemanticRefinementModule extends Module {
  readonly config: Readonly<SrmConfig>;
  readonly upperPath: GeluMlp;
  readonly lowerInputProj: Linear;
  readonly srEncoders: EncoderStack;
  readonly lowerOutputProj: Linear;

  constructor(config: Partial<SrmConfig> = {}) {
    super();
    const c = resolveSrmConfig(config);
    this.config = Object.freeze(c);
    this.upperPath = this.addModule('upper_path', new GeluMlp(c.inputDim, c.hiddenDim, c.inputDim));
    this.lowerInputProj = this.addModule('lower_input_proj', new Linear(c.inputDim, c.hiddenDim));
    this.srEncoders = this.addModule('sr_encoders', new EncoderStack(c.numLayers, c.hiddenDim, c.numHeads));
    this.lowerOutputProj = this.addModule('lower_output_proj', new Linear(c.hiddenDim, c.inputDim));
  }

  /**
   * Builds a module whose shape is read off a PyTorch-layout state dict (input and hidden width
   * from `upper_path.0.weight`, the layer count from the `sr_encoders.<i>.*` keys) and loads it.
   */
  static fromStateDict(dict: TensorDict, options: FromStateDictOptions = {}): SemanticRefinementModule {
    const model = new SemanticRefinementModule({ ...inferSrmConfig(dict, options.source), numHeads: options.numHeads ?? SRM_DEFAULTS.numHeads });
    try {
      model.loadStateDict(dict, { source: options.source ?? 'SRM state dict' });
    } catch (err) {
      model.dispose();
      throw err;
    }
    return model;
  }

  get inputDim(): number {
    return this.config.inputDim;
  }

  get encoderLayers(): readonly SREncoderLayer[] {
    return this.srEncoders.layers;
  }

  /** Turns the length-1 attention shortcut on or off in every encoder layer (see {@link SREncoderLayer}). */
  setLengthOneFastPath(enabled: boolean): this {
    for (const layer of this.encoderLayers) layer.lengthOneFastPath = enabled;
    return this;
  }

  /** `[batch, inputDim]` → refined `[batch, inputDim]`. Differentiable (used by training). */
  forward(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.run(x));
  }

  /**
   * Inference on a batch of embeddings, without recording gradients: `Float32Array[]`, a `[N, D]`
   * host tensor, or a `[N, D]` tfjs tensor in, the same kind out (see {@link refine}).
   */
  refine(embeddings: tf.Tensor2D, options?: RefineOptions): tf.Tensor2D;
  refine(embeddings: HostTensor, options?: RefineOptions): HostTensor;
  refine(embeddings: readonly Float32Array[], options?: RefineOptions): Float32Array[];
  refine(embeddings: tf.Tensor2D | HostTensor | readonly Float32Array[], options?: RefineOptions): tf.Tensor2D | HostTensor | Float32Array[] {
    return refine(this, embeddings as never, options);
  }

  /** The forward pass plus the intermediate outputs the reference records (caller disposes all). */
  forwardWithIntermediates(x: tf.Tensor2D): { out: tf.Tensor2D; intermediates: SrmIntermediates } {
    const intermediates = {} as SrmIntermediates;
    const out = this.run(x, intermediates);
    return { out, intermediates };
  }

  private run(x: tf.Tensor2D, record?: SrmIntermediates): tf.Tensor2D {
    this.assertInput(x);
    // The original works on x.unsqueeze(1) and squeezes at the end; with length 1 every op is
    // row-wise, so [batch, D] rows are the same computation without the extra axis.
    const upper = this.upperPath.forward(x) as tf.Tensor2D;
    const lowerIn = linear(x, this.lowerInputProj.weight, this.lowerInputProj.bias) as tf.Tensor2D;
    let lower = lowerIn;
    for (const layer of this.encoderLayers) lower = layer.forward(lower) as tf.Tensor2D;
    const lowerOut = linear(lower, this.lowerOutputProj.weight, this.lowerOutputProj.bias) as tf.Tensor2D;
    if (record) {
      record['upper_path.out'] = upper;
      record['lower_input_proj.out'] = lowerIn;
      record['sr_encoders.out'] = lower;
      record['lower_output_proj.out'] = lowerOut;
    }
    return tf.add(upper, lowerOut);
  }

  private assertInput(x: tf.Tensor): void {
    const D = this.config.inputDim;
    if (x.rank !== 2 || x.shape[1] !== D) {
      const width = x.shape[x.rank - 1];
      const why = x.rank === 2 ? `embeddings are ${width} wide, this SRM expects ${D}` : `expected a [batch, ${D}] tensor`;
      throw new Error(`SemanticRefinementModule(inputDim ${D}): ${why} (got shape [${x.shape.join(', ')}]); the input width must match the VLM the SRM was trained with`);
    }
    if (x.dtype !== 'float32') throw new Error(`SemanticRefinementModule: embeddings must be float32, got ${x.dtype}`);
  }
}

/** Reads inputDim, hiddenDim and numLayers off a CLSEnhancer-style state dict. */
export function inferSrmConfig(dict: TensorDict, source = 'SRM state dict'): Omit<SrmConfig, 'numHeads'> {
  const strip = (k: string) => (k.startsWith('module.') ? k.slice(7) : k);
  const byKey = new Map(Object.entries(dict).map(([k, v]) => [strip(k), v]));
  const first = byKey.get('upper_path.0.weight');
  if (!first || first.shape.length !== 2) {
    const keys = [...byKey.keys()].slice(0, 5).join(', ');
    throw new Error(`${source}: not an SRM (CLSEnhancer) state dict: no 2-D "upper_path.0.weight" (keys: ${keys || 'none'}${byKey.size > 5 ? ', …' : ''})`);
  }
  const [hiddenDim, inputDim] = first.shape as [number, number];
  let numLayers = 0;
  while (byKey.has(`sr_encoders.${numLayers}.pre_linear.weight`)) numLayers++;
  return { inputDim, hiddenDim, numLayers };
}
