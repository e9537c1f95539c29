import type { OnnxGraphBuilder } from '../../graph-builder';
import type { GradContext } from './types';

export const shapeOf = (c: GradContext, name: string): number[] => c.info(name).shape;

/**
 * The gradient of a broadcast operand: `grad` (of the broadcast shape `from`) summed over the
 * axes that broadcasting added or stretched, reshaped to the operand's shape `to`.
 */
export function sumToShape(g: OnnxGraphBuilder, grad: string, from: readonly number[], to: readonly number[]): string {
  if (from.length === to.length && from.every((d, i) => d === to[i])) return grad;
  const lead = from.length - to.length;
  const axes: number[] = [];
  from.forEach((d, i) => {
    const target = i < lead ? 1 : to[i - lead]!;
    if (i < lead || (target === 1 && d !== 1)) axes.push(i);
  });
  const summed = axes.length ? g.reduceSum(grad, axes, true) : grad;
  return g.reshape(summed, [...to]);
}

/** A float tensor of zeros with a static shape. */
export function zeros(g: OnnxGraphBuilder, shape: readonly number[]): string {
  return g.op('Expand', [g.constFloat(0), g.constInt64([...shape])]);
}

/** `t` broadcast to `shape` (Expand; a no-op for equal shapes). */
export function expandTo(g: OnnxGraphBuilder, t: string, from: readonly number[], to: readonly number[]): string {
  if (from.length === to.length && from.every((d, i) => d === to[i])) return t;
  return g.op('Expand', [t, g.constInt64([...to])]);
}

export const wanted = (c: GradContext, i: number): boolean => Boolean(c.wants[i]);

export const normAxis = (axis: number, rank: number): number => (axis < 0 ? axis + rank : axis);
