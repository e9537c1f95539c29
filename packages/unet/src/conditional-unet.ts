import { Conv2d, initGenerator, Linear, Module, reflectPad, tf, type LoadStateDictOptions, type TensorDict } from '@srdiff/core';
import { planLevels, resolveUnetConfig, type UNetConfig, type UNetOptions, type UNetPlan } from './config';
import { convParts } from './ops/conv-parts';
import { linear } from './ops/matmul';
import { mismatchHint, inferUnetConfig } from './infer-config';
import { readStateDict, writeUnetWeights, type StateDictSource } from './io';
import { checkContexts, checkImages, padTo, timeTensor, type TimeInput } from './inputs';
import { ModuleList } from './modules/containers';
import { attentionBlock, DownLevel, UpLevel } from './modules/levels';
import type { Residual } from './modules/pre-norm';
import { defaultConv, ResBlock } from './modules/resblock';
import { TextMlp } from './modules/text-mlp';
import { TimeMlp } from './modules/time-mlp';
import type { ActivationTrace } from './trace';

/** Optional inputs of {@link ConditionalUNet.forward}. */
export interface UNetForwardOptions {
  /** Semantic vector `[B, context_dim]` for the cross-attention (SR-Diff: the refined CLIP embedding). */
  imageContext?: tf.Tensor;
  /** Degradation/text vector `[B, context_dim]` for the prompt path (`use_degra_context`). */
  textContext?: tf.Tensor;
  /** Observer of intermediate activations (see {@link ActivationTrace}). */
  trace?: ActivationTrace;
}

/**
 * SR-Diff's denoising network, the original `ConditionalUNet` (`DenoisingUNet_arch.py`) on
 * TensorFlow.js: it predicts the noise in x_t given the condition (the degraded image), the time
 * and, optionally, a semantic context. NHWC tensors; parameters and their state-dict names are the
 * original's, so PyTorch checkpoints load by name.
 *
 * Forward, as the original: `cat([xt - cond, cond])` → reflect pad (bottom/right) to a multiple
 * of 2^depth → 7×7 `init_conv` → encoder levels (ResBlock, ResBlock, attention, downsample; two
 * skips per level) → middle (ResBlock, attention, ResBlock) → decoder levels (each ResBlock takes
 * one skip) → cat with the init_conv output → `final_res_block` → `final_conv` → crop back.
 */
export class ConditionalUNet extends Module {
  readonly config: UNetConfig;
  /** Widths per level and which blocks exist. */
  readonly plan: UNetPlan;
  /** `prompt` `[1, time_dim]` of the prompt path (`use_degra_context`). */
  readonly prompt?: tf.Variable;
  readonly initConv: Conv2d;
  readonly timeMlp: TimeMlp;
  readonly textMlp?: TextMlp;
  readonly promptMlp?: Linear;
  /** Encoder levels, shallowest first (`downs.L`). */
  readonly downs: ModuleList<DownLevel>;
  /** Decoder levels, deepest first (`ups.0` is the deepest), in the order they run. */
  readonly ups: ModuleList<UpLevel>;
  readonly midBlock1: ResBlock;
  readonly midAttn: Residual;
  readonly midBlock2: ResBlock;
  readonly finalResBlock: ResBlock;
  readonly finalConv: Conv2d;

  constructor(options: UNetOptions) {
    super();
    const config = resolveUnetConfig(options);
    const plan = planLevels(config);
    this.config = config;
    this.plan = plan;
    const { nf } = config;
    const { timeDim } = plan;
    const contextDim = config.context_dim ?? -1;

    this.initConv = this.addModule('init_conv', defaultConv(2 * config.in_nc, nf, 7));
    this.timeMlp = this.addModule('time_mlp', new TimeMlp(nf, timeDim));
    if (plan.degraContext) {
      // torch.rand(1, time_dim): U[0, 1).
      this.prompt = this.addParameter('prompt', tf.tensor2d(initGenerator().uniformArray(timeDim), [1, timeDim]));
      this.textMlp = this.addModule('text_mlp', new TextMlp(contextDim, timeDim));
      this.promptMlp = this.addModule('prompt_mlp', new Linear(timeDim, timeDim));
    }
    this.downs = this.addModule('downs', new ModuleList(plan.levels.map((l) => new DownLevel(l, timeDim, contextDim))));
    this.ups = this.addModule('ups', new ModuleList([...plan.levels].reverse().map((l) => new UpLevel(l, timeDim, contextDim))));

    const mid = plan.midDim;
    this.midBlock1 = this.addModule('mid_block1', new ResBlock(mid, mid, timeDim));
    // The middle attends to the image context whenever the network has one (whatever the depth).
    this.midAttn = this.addModule('mid_attn', attentionBlock(mid, plan.imageContext, contextDim));
    this.midBlock2 = this.addModule('mid_block2', new ResBlock(mid, mid, timeDim));
    this.finalResBlock = this.addModule('final_res_block', new ResBlock(2 * nf, nf, timeDim));
    this.finalConv = this.addModule('final_conv', new Conv2d(nf, config.out_nc, 3, { padding: 1 }));
  }

  /**
   * Builds the network and loads its weights by name: from a weights file (the original's
   * `lastest_G.pth` / EMA `.pth` as they are, a safetensors file such as one written by
   * {@link save}) or from a state dict in memory. Without `config`, the config recorded in the file is used, else
   * the one the keys and shapes imply ({@link inferUnetConfig}). A state dict of another config
   * fails with the mismatching keys and the config the weights look like.
   */
  static async fromStateDict(source: StateDictSource, config?: UNetOptions): Promise<ConditionalUNet> {
    const loaded = await readStateDict(source);
    const options = config ?? loaded.config ?? inferUnetConfig(loaded.tensors);
    if (!options) {
      throw new Error(`${loaded.source}: no config given and none can be read off the weights (not a ConditionalUNet state dict: no init_conv.weight / downs.L.* keys)`);
    }
    const model = new ConditionalUNet(options);
    try {
      model.loadStateDict(loaded.tensors, { source: loaded.source });
    } catch (err) {
      model.dispose();
      throw err;
    }
    return model;
  }

  /** Like Module.loadStateDict, with a mismatch hint naming the config the weights look like. */
  override loadStateDict(dict: TensorDict, options: LoadStateDictOptions = {}): void {
    super.loadStateDict(dict, { source: 'ConditionalUNet', hint: () => mismatchHint(this.config, dict), ...options });
  }

  /** Writes the weights as PyTorch-named safetensors (loadable by the original code) with the config in the metadata. */
  async save(file: string, metadata: Record<string, string> = {}): Promise<void> {
    await writeUnetWeights(file, this.stateDict(), this.config, metadata);
  }

  /**
   * Predicts the noise in `xt`. `xt`, `cond`: NHWC `[B, H, W, in_nc]` (any H, W the reflect padding
   * allows); `time`: a number, one per element, or a tensor `[B]` (floats allowed: samplers pass
   * t·sample_scale). Returns `[B, H, W, out_nc]`. Inputs are validated before any computation.
   */
  forward(xt: tf.Tensor4D, cond: tf.Tensor4D, time: TimeInput, options: UNetForwardOptions = {}): tf.Tensor4D {
    const { config, plan } = this;
    const { imageContext, textContext, trace } = options;
    checkImages(config, plan, xt, cond);
    const [batch, height, width] = xt.shape;
    checkContexts(config, plan, batch, imageContext, textContext);
    return tf.tidy(() => {
      const t = this.timeEmbedding(timeTensor(time, batch), textContext as tf.Tensor2D | undefined, trace);
      const context = imageContext && (imageContext.rank === 2 ? tf.expandDims(imageContext, 1) : imageContext) as tf.Tensor3D | undefined;

      // init_conv(pad(cat([xt - cond, cond]))), with the concatenation left implicit (ops/conv-parts.ts).
      const pad = { bottom: padTo(height, plan.padMultiple), right: padTo(width, plan.padMultiple) };
      const parts = [reflectPad(tf.sub(xt, cond) as tf.Tensor4D, pad), reflectPad(cond, pad)];
      if (trace) trace('init_conv.in', tf.concat(parts, 3));
      const initOut = convParts(this.initConv, parts);
      const out = this.unet(initOut, t, context, trace);
      return tf.slice(out, [0, 0, 0, 0], [batch, height, width, config.out_nc]);
    });
  }

  /** `time_mlp(time)`, plus the prompt path's `prompt_mlp(softmax(text_mlp(text), dim=1)·prompt)` when a text context is given. */
  private timeEmbedding(time: tf.Tensor1D, textContext: tf.Tensor2D | undefined, trace?: ActivationTrace): tf.Tensor2D {
    let t = this.timeMlp.forward(time, trace);
    if (textContext && this.textMlp && this.promptMlp && this.prompt) {
      const weights = tf.mul(tf.softmax(this.textMlp.forward(textContext)), this.prompt) as tf.Tensor2D;
      t = tf.add(t, linear(this.promptMlp, weights)) as tf.Tensor2D;
    }
    trace?.('time_mlp.out', t);
    return t;
  }

  /** Everything between init_conv and the crop, on the padded size. */
  private unet(initOut: tf.Tensor4D, t: tf.Tensor2D, context: tf.Tensor3D | undefined, trace?: ActivationTrace): tf.Tensor4D {
    const record = (name: string, x: tf.Tensor4D) => {
      trace?.(`${name}.out`, x);
      return x;
    };
    const skips: tf.Tensor4D[] = [];
    let x = initOut;
    this.downs.items.forEach((level, i) => {
      x = record(`downs.${i}.0`, level.block1.forward(x, t));
      skips.push(x);
      x = record(`downs.${i}.1`, level.block2.forward(x, t));
      x = record(`downs.${i}.2`, level.attention.forward(x, context));
      skips.push(x);
      x = record(`downs.${i}.3`, level.downsample.forward(x));
    });
    x = record('mid_block1', this.midBlock1.forward(x, t));
    x = record('mid_attn', this.midAttn.forward(x, context));
    x = record('mid_block2', this.midBlock2.forward(x, t));
    this.ups.items.forEach((level, i) => {
      x = record(`ups.${i}.0`, level.block1.forward([x, skips.pop()!], t));
      x = record(`ups.${i}.1`, level.block2.forward([x, skips.pop()!], t));
      x = record(`ups.${i}.2`, level.attention.forward(x, context));
      x = record(`ups.${i}.3`, level.upsample.forward(x));
    });
    x = record('final_res_block', this.finalResBlock.forward([x, initOut], t));
    return record('final_conv', this.finalConv.forward(x));
  }
}
