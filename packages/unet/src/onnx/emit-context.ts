import type { WeightSource } from './weights';
import type { OnnxGraphBuilder } from '@srdiff/core';

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

/** The graph tensor of state-dict key `key` (checked against `shape`), under its PyTorch name. */
export function weight(ctx: EmitContext, key: string, shape: readonly number[]): string {
  return ctx.w.tensor(key, shape);
}

/** Rows `[start, end)` of a weight tensor (a chunk of a fused projection), as graph ops. */
export function rows(ctx: EmitContext, tensor: string, start: number, end: number): string {
  return ctx.g.slice(tensor, [start], [end], [0]);
}
