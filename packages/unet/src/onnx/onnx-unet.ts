import { createOrtSession, readOnnxModelSummary, tf, type HostTensor, type OrtSessionHandle, type OrtSessionOptions } from '@srdiff/core';
import type { Denoiser } from '@srdiff/sde';
import { planLevels, resolveUnetConfig, type UNetConfig } from '../config';
import { resolveContextAs, type UnetDenoiserOptions } from '../denoiser';
import { padTo } from '../inputs';
import { readModelBytes } from './read-model-bytes';
import { UNET_ONNX_METADATA } from './unet-onnx-bytes';
import { UNET_ONNX_IO } from './unet-graph';

/** Host-memory inputs of one forward pass, NCHW as the graph takes them. */
export interface OnnxUnetHostInputs {
  xt: HostTensor;
  cond: HostTensor;
  /** One value for the batch or one per element. */
  time: number | readonly number[] | Float32Array;
  /** `[B, context_dim]`, or `[1, context_dim]` for the whole batch. */
  imageContext?: HostTensor;
  /** `[B, context_dim]` for a graph exported with `textContext`. */
  textContext?: HostTensor;
}

export class OnnxUnetInputError extends Error {
  constructor(message: string) {
    super(`OnnxUNet: ${message}`);
    this.name = 'OnnxUnetInputError';
  }
}

const shapeText = (s: readonly number[]) => `[${s.join(', ')}]`;

/**
 * A ConditionalUNet exported to ONNX, running on ONNX Runtime. Inputs and outputs cross the engine
 * boundary once per call: `run` takes and returns host arrays (NCHW, what the graph uses);
 * `predict` and {@link OnnxUNet.denoiser} take NHWC tfjs tensors, as the samplers of
 * `@srdiff/sde` do, and transpose at the boundary.
 */
export class OnnxUNet {
  private constructor(
    readonly handle: OrtSessionHandle,
    /** The network's config, read from the model's metadata. */
    readonly config: UNetConfig,
    private readonly padMultiple: number,
  ) {}

  /** Opens an exported model (bytes, a file path, or in a browser a URL); see {@link OrtSessionOptions} for threads, providers, optimisation. */
  static async create(model: Uint8Array | string, options: OrtSessionOptions = {}): Promise<OnnxUNet> {
    const bytes = typeof model === 'string' ? await readModelBytes(model) : model;
    const summary = readOnnxModelSummary(bytes, typeof model === 'string' ? model : 'ONNX model');
    const configText = summary.metadata[UNET_ONNX_METADATA.config];
    if (!configText) {
      throw new Error(`${typeof model === 'string' ? model : 'ONNX model'}: not a srdiff ConditionalUNet export (no "${UNET_ONNX_METADATA.config}" metadata); export it with exportOnnx()`);
    }
    const config = resolveUnetConfig(JSON.parse(configText));
    const handle = await createOrtSession(bytes, options);
    return new OnnxUNet(handle, config, planLevels(config).padMultiple);
  }

  get inputNames(): readonly string[] {
    return this.handle.session.inputNames;
  }

  /** Whether the graph takes an `image_context` input. */
  get takesImageContext(): boolean {
    return this.inputNames.includes(UNET_ONNX_IO.imageContext);
  }

  get takesTextContext(): boolean {
    return this.inputNames.includes(UNET_ONNX_IO.textContext);
  }

  /** One forward pass on host arrays (NCHW); returns the predicted noise `[B, out_nc, H, W]`. */
  async run(inputs: OnnxUnetHostInputs): Promise<HostTensor> {
    const feeds = this.feeds(inputs);
    const out = await this.handle.session.run(feeds);
    const noise = out[UNET_ONNX_IO.noise]!;
    const data = noise.data as Float32Array;
    // Copy into this realm's array: the binding's buffer belongs to ORT's output tensor.
    const result = { shape: [...noise.dims], data: Float32Array.from(data) };
    noise.dispose?.();
    return result;
  }

  /**
   * The noise prediction for NHWC tfjs tensors (`[B, H, W, in_nc]`), as `ConditionalUNet.forward`
   * takes them; `imageContext` `[B, context_dim]` (or `[B, 1, context_dim]`, one token).
   */
  async predict(xt: tf.Tensor4D, cond: tf.Tensor4D, time: number | readonly number[], imageContext?: tf.Tensor, textContext?: tf.Tensor): Promise<tf.Tensor4D> {
    const toHostNchw = async (t: tf.Tensor4D): Promise<HostTensor> => {
      const nchw = tf.transpose(t, [0, 3, 1, 2]);
      try {
        return { shape: [...nchw.shape], data: (await nchw.data()) as Float32Array };
      } finally {
        nchw.dispose();
      }
    };
    const toHost = async (t: tf.Tensor | undefined): Promise<HostTensor | undefined> => {
      if (!t) return undefined;
      const flat: number[] = t.rank === 3 && t.shape[1] === 1 ? [t.shape[0]!, t.shape[2]!] : [...t.shape];
      return { shape: flat, data: (await t.data()) as Float32Array };
    };
    if (imageContext && imageContext.rank === 3 && imageContext.shape[1] !== 1) {
      throw new OnnxUnetInputError(`the exported graph takes one context token per image ([B, context_dim] or [B, 1, context_dim]); got ${shapeText(imageContext.shape)}`);
    }
    const out = await this.run({
      xt: await toHostNchw(xt),
      cond: await toHostNchw(cond),
      time: typeof time === 'number' ? time : time,
      imageContext: await toHost(imageContext),
      textContext: await toHost(textContext),
    });
    return tf.tidy(() => tf.transpose(tf.tensor4d(out.data, out.shape as [number, number, number, number]), [0, 2, 3, 1]));
  }

  /**
   * This network as `@srdiff/sde`'s {@link Denoiser}, like `unetDenoiser` for the tfjs network:
   * the sampler's context feeds `contextAs` (default: the image context when the graph takes
   * one, else the text context when it takes that).
   */
  denoiser(options: UnetDenoiserOptions = {}): Denoiser {
    const contextAs = resolveContextAs(options.contextAs, { image: this.takesImageContext, text: this.takesTextContext }, 'OnnxUNet.denoiser');
    return (xt, mu, t, context) => (contextAs === 'image' ? this.predict(xt, mu, t, context) : this.predict(xt, mu, t, undefined, context));
  }

  async dispose(): Promise<void> {
    await this.handle.session.release();
  }

  private feeds(inputs: OnnxUnetHostInputs): Record<string, InstanceType<typeof this.handle.ort.Tensor>> {
    const { ort } = this.handle;
    const { config } = this;
    const { xt, cond } = inputs;
    checkHost('xt', xt);
    checkHost('cond', cond);
    if (xt.shape.length !== 4 || xt.shape[1] !== config.in_nc) {
      throw new OnnxUnetInputError(`xt must be NCHW [batch, ${config.in_nc}, height, width], got ${shapeText(xt.shape)}`);
    }
    if (cond.shape.length !== 4 || cond.shape.some((d, i) => d !== xt.shape[i])) {
      throw new OnnxUnetInputError(`cond must have the shape of xt ${shapeText(xt.shape)}, got ${shapeText(cond.shape)}`);
    }
    const [batch, , height, width] = xt.shape as [number, number, number, number];
    for (const [axis, size] of [['height', height], ['width', width]] as const) {
      const pad = padTo(size, this.padMultiple);
      if (pad >= size) {
        throw new OnnxUnetInputError(
          `${axis} ${size} is too small: the input is reflect-padded to a multiple of ${this.padMultiple} (2^depth) and reflection needs the ` +
            `padding (${pad}) to be smaller than the size`,
        );
      }
    }
    const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {
      [UNET_ONNX_IO.xt]: new ort.Tensor('float32', xt.data, xt.shape),
      [UNET_ONNX_IO.cond]: new ort.Tensor('float32', cond.data, cond.shape),
      [UNET_ONNX_IO.time]: new ort.Tensor('float32', timeArray(inputs.time, batch), [batch]),
    };
    const context = (name: 'imageContext' | 'textContext', input: string, given: HostTensor | undefined) => {
      const wanted = this.inputNames.includes(input);
      if (!wanted) {
        if (given) throw new OnnxUnetInputError(`${name} was given but this graph has no "${input}" input (config ${JSON.stringify(config)})`);
        return;
      }
      if (!given) {
        throw new OnnxUnetInputError(
          name === 'imageContext'
            ? `this network cross-attends to an image context: pass imageContext [${batch}, ${config.context_dim}] (the original cannot run without one here)`
            : `this graph was exported with a text_context input: pass textContext [${batch}, ${config.context_dim}]`,
        );
      }
      checkHost(name, given);
      if (given.shape.length !== 2 || given.shape[1] !== config.context_dim || (given.shape[0] !== batch && given.shape[0] !== 1)) {
        throw new OnnxUnetInputError(`${name} must be [${batch}, ${config.context_dim}] (batch, context_dim), got ${shapeText(given.shape)}`);
      }
      const data = given.shape[0] === batch ? given.data : repeatRows(given.data, batch);
      feeds[input] = new ort.Tensor('float32', data, [batch, config.context_dim!]);
    };
    context('imageContext', UNET_ONNX_IO.imageContext, inputs.imageContext);
    context('textContext', UNET_ONNX_IO.textContext, inputs.textContext);
    return feeds;
  }
}

function checkHost(name: string, t: HostTensor | undefined): asserts t is HostTensor {
  if (!t || !Array.isArray(t.shape) || !(t.data instanceof Float32Array)) {
    throw new OnnxUnetInputError(`${name} must be a host tensor { shape, data: Float32Array }`);
  }
  if (t.data.length !== t.shape.reduce((a, b) => a * b, 1)) {
    throw new OnnxUnetInputError(`${name}: shape ${shapeText(t.shape)} needs ${t.shape.reduce((a, b) => a * b, 1)} values, got ${t.data.length}`);
  }
}

function timeArray(time: number | readonly number[] | Float32Array, batch: number): Float32Array {
  if (typeof time === 'number') {
    if (!Number.isFinite(time)) throw new OnnxUnetInputError(`time must be a finite number, got ${time}`);
    return new Float32Array(batch).fill(time);
  }
  if (time.length !== 1 && time.length !== batch) throw new OnnxUnetInputError(`got ${time.length} time values for a batch of ${batch} (give one, or one per element)`);
  if (!Array.from(time).every(Number.isFinite)) throw new OnnxUnetInputError('time values must be finite numbers');
  return time.length === batch ? Float32Array.from(time) : new Float32Array(batch).fill(time[0]!);
}

function repeatRows(row: Float32Array, times: number): Float32Array {
  const out = new Float32Array(row.length * times);
  for (let i = 0; i < times; i++) out.set(row, i * row.length);
  return out;
}

/**
 * A `Denoiser` for `@srdiff/sde`'s samplers backed by ONNX Runtime: from an exported model (bytes
 * or path; a session is created with `options`) or an open {@link OnnxUNet}.
 */
export async function createOnnxDenoiser(model: OnnxUNet | Uint8Array | string, options: OrtSessionOptions & UnetDenoiserOptions = {}): Promise<Denoiser> {
  const { contextAs, ...session } = options;
  const unet = model instanceof OnnxUNet ? model : await OnnxUNet.create(model, session);
  return unet.denoiser({ contextAs });
}
