import { GraphParameters, type OnnxGraphBuilder, type ParameterMode, type TensorDict } from '@srdiff/core';

export class OnnxExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnnxExportError';
  }
}

/**
 * The ConditionalUNet state dict an emitter reads from: core's {@link GraphParameters} with this
 * package's error type. In `'constant'` mode the weights are initializers (an inference graph); in
 * `'input'` mode graph inputs (the training graph, differentiated with respect to them).
 */
export class WeightSource extends GraphParameters {
  constructor(g: OnnxGraphBuilder, dict: TensorDict, options: { mode?: ParameterMode; source?: string } = {}) {
    super(g, dict, { ...options, source: options.source ?? 'state dict', error: OnnxExportError });
  }
}
