import type { OnnxGraphBuilder } from '@srdiff/core';
import { transposed, type BlipWeightSource } from './weight-source';

/**
 * What every BLIP module emitter gets: the graph under construction, the weights by PyTorch name,
 * and `record`, which keeps intermediate tensors by name so the graph can expose them as debug
 * outputs (parity checks against Hugging Face's per-layer states).
 */
export interface BlipEmitContext {
  g: OnnxGraphBuilder;
  w: BlipWeightSource;
  record(name: string, tensor: string): string;
}

/** The initializer of state-dict key `key` (checked against `shape`), under its PyTorch name. */
export function weight(ctx: BlipEmitContext, key: string, shape: readonly number[]): string {
  return ctx.g.initializer(key, ctx.w.take(key, shape).data, [...shape]);
}

/** `x · Wᵀ + b` for a PyTorch `nn.Linear` `prefix` (`.weight` `[out, in]`, `.bias` `[out]`) on `[…, in]` tensors. */
export function linear(ctx: BlipEmitContext, prefix: string, x: string, inFeatures: number, outFeatures: number): string {
  const { g } = ctx;
  const w = g.initializer(`${prefix}.weight^T`, transposed(ctx.w.take(`${prefix}.weight`, [outFeatures, inFeatures])), [inFeatures, outFeatures]);
  return g.add(g.matMul(x, w), weight(ctx, `${prefix}.bias`, [outFeatures]));
}

/** PyTorch `nn.LayerNorm(dim, eps)` at `prefix` over the last axis. */
export function layerNorm(ctx: BlipEmitContext, prefix: string, x: string, dim: number, eps: number): string {
  return ctx.g.layerNorm(x, weight(ctx, `${prefix}.weight`, [dim]), weight(ctx, `${prefix}.bias`, [dim]), eps);
}
