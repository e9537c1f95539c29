import type { OnnxGraphBuilder } from '@srdiff/core';
import type { WeightSource } from './weights';

/**
 * What every module emitter gets: the graph under construction, the weights, and a record of module
 * outputs by state-dict path (`downs.3.2.out`) that the exporter can expose as extra outputs.
 * Tensors are NCHW inside the graph.
 */
export interface EmitContext {
  g: OnnxGraphBuilder;
  w: WeightSource;
  /** Records `tensor` as the output of the module at `path`; returns it. */
  record(path: string, tensor: string): string;
}

/** Adds the initializer for state-dict key `key` (checked against `shape`) under its PyTorch name. */
export function weight(ctx: EmitContext, key: string, shape: readonly number[]): string {
  const t = ctx.w.take(key, shape);
  return ctx.g.initializer(key, t.data, [...shape]);
}
