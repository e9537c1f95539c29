import { fingerprintWeights, type TensorDict } from '@srdiff/core';
import { resolveUnetConfig, type UNetConfig, type UNetOptions } from '../config';
import { buildUnetGraph, UNET_ONNX_OPSET, type UnetGraphOptions } from './unet-graph';

/**
 * Version of the emitted graph. Part of every export's fingerprint, so cached exports are rebuilt
 * when the exporter changes how it writes the network (bump it with any change to the emitters).
 */
export const UNET_ONNX_EXPORTER_VERSION = 2;

/** Keys of the exported model's `metadata_props`. */
export const UNET_ONNX_METADATA = {
  kind: 'srdiff.kind',
  config: 'srdiff.config',
  fingerprint: 'srdiff.weights_sha256',
  exporterVersion: 'srdiff.exporter_version',
  inputs: 'srdiff.inputs',
} as const;

export const UNET_ONNX_KIND = 'conditional-unet';

export type UnetExportOptions = Omit<UnetGraphOptions, 'debugOutputs'>;

/** Anything with the tfjs ConditionalUNet's `config` and `stateDict()` (e.g. the model itself). */
export interface UnetLike {
  readonly config: UNetConfig;
  stateDict(): TensorDict;
}

function graphVariant(options: UnetExportOptions): Record<string, boolean> {
  return { textContext: options.textContext ?? false, withoutImageContext: options.withoutImageContext ?? false };
}

/** SHA-256 of the weights, the resolved config, the exporter version and the graph variant. */
export function unetOnnxFingerprint(stateDict: TensorDict, config: UNetOptions | UNetConfig, options: UnetExportOptions = {}): string {
  return fingerprintWeights(stateDict, {
    kind: UNET_ONNX_KIND,
    config: resolveUnetConfig(config),
    exporter: UNET_ONNX_EXPORTER_VERSION,
    opset: UNET_ONNX_OPSET,
    variant: graphVariant(options),
  });
}

/** The serialised ONNX model of a ConditionalUNet state dict (PyTorch names and layouts). */
export function unetToOnnxBytes(stateDict: TensorDict, config: UNetOptions | UNetConfig, options: UnetExportOptions = {}): Uint8Array {
  return serializeUnetOnnx(stateDict, resolveUnetConfig(config), options, unetOnnxFingerprint(stateDict, config, options));
}

/** The model bytes with a precomputed fingerprint (exportOnnx hashes once for both uses). */
export function serializeUnetOnnx(stateDict: TensorDict, resolved: UNetConfig, options: UnetExportOptions, fingerprint: string): Uint8Array {
  const graph = buildUnetGraph(stateDict, resolved, options);
  return graph.serialize({
    producerName: '@srdiff/unet',
    docString: 'SR-Diff ConditionalUNet (IR-SDE noise predictor). NCHW; inputs xt, cond [B,C,H,W], time [B], image_context [B,context_dim]; output noise.',
    metadata: {
      [UNET_ONNX_METADATA.kind]: UNET_ONNX_KIND,
      [UNET_ONNX_METADATA.config]: JSON.stringify(resolved),
      [UNET_ONNX_METADATA.fingerprint]: fingerprint,
      [UNET_ONNX_METADATA.exporterVersion]: String(UNET_ONNX_EXPORTER_VERSION),
      [UNET_ONNX_METADATA.inputs]: JSON.stringify(graphVariant(options)),
    },
  });
}

/** {@link unetToOnnxBytes} of a model (the tfjs `ConditionalUNet`). */
export function toOnnx(unet: UnetLike, options: UnetExportOptions = {}): Uint8Array {
  return unetToOnnxBytes(unet.stateDict(), unet.config, options);
}
