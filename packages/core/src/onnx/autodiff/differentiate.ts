import type { OnnxGraphBuilder } from '../graph-builder';
import { viewNode, type NodeView } from './graph-view';
import { GRADIENT_RULES, GradientRuleError } from './rules';
import { zeros } from './rules/helpers';
import { inferShapes, type DimBindings, type TensorInfo } from './shape-inference';

export interface GradientOptions {
  /** The scalar (one-element) float tensor to differentiate. */
  loss: string;
  /** The tensors (graph inputs or initializers) to differentiate with respect to. */
  wrt: readonly string[];
  /** Sizes of the graph inputs' symbolic dimensions: the backward graph is built for static shapes. */
  dims?: DimBindings;
  /** A factor for the loss's gradient (default 1), e.g. a loss scale. */
  seed?: number;
}

export interface GradientGraph {
  /** For each `wrt` name, the tensor holding d loss / d it (same shape). */
  grads: Record<string, string>;
  /** Static shapes of the forward tensors. */
  info: Map<string, TensorInfo>;
  /** Forward nodes the backward pass went through. */
  differentiatedNodes: number;
}

export class GradientError extends Error {
  constructor(message: string) {
    super(`gradients: ${message}`);
    this.name = 'GradientError';
  }
}

/**
 * Reverse-mode differentiation of a graph built with {@link OnnxGraphBuilder}: appends to the same
 * graph the nodes computing d loss / d x for every x in `wrt` and returns their names. The forward
 * graph stays the single definition of the computation; gradients are derived from it node by
 * node (rules in `./rules`), contributions to a tensor read by several nodes are summed.
 *
 * Only nodes on a path from some `wrt` tensor to the loss are differentiated; integer tensors
 * (shape arithmetic) and {@link OnnxGraphBuilder.stopGradient} values carry no gradient.
 */
export function buildGradients(g: OnnxGraphBuilder, options: GradientOptions): GradientGraph {
  const info = inferShapes(g, options.dims);
  const lossInfo = info.get(options.loss);
  if (!lossInfo) throw new GradientError(`the loss "${options.loss}" is not a tensor of the graph`);
  if (lossInfo.dtype !== 'float' || lossInfo.shape.reduce((a, b) => a * b, 1) !== 1) {
    throw new GradientError(`the loss must be a one-element float tensor, "${options.loss}" is ${lossInfo.dtype} [${lossInfo.shape}]`);
  }
  for (const w of options.wrt) {
    const t = info.get(w);
    if (!t) throw new GradientError(`"${w}" is not a tensor of the graph`);
    if (t.dtype !== 'float') throw new GradientError(`"${w}" is ${t.dtype}; only float tensors have gradients`);
  }
  const nodes = g.graphNodes.map(viewNode);
  const floatTensor = (name: string) => name !== '' && info.get(name)?.dtype === 'float';

  // Forward: tensors that depend on some wrt tensor.
  const depends = new Set(options.wrt);
  for (const n of nodes) {
    if (!n.inputs.some((i) => depends.has(i))) continue;
    for (const o of n.outputs) if (floatTensor(o) && !g.isStopGradient(o)) depends.add(o);
  }
  // Backward: tensors the loss depends on.
  const feeds = new Set([options.loss]);
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    if (n.outputs.some((o) => feeds.has(o))) for (const input of n.inputs) feeds.add(input);
  }
  const active = nodes.filter((n) => n.outputs.some((o) => feeds.has(o) && depends.has(o)));

  const contributions = new Map<string, string[]>();
  const add = (name: string, grad: string) => {
    const list = contributions.get(name);
    if (list) list.push(grad);
    else contributions.set(name, [grad]);
  };
  const total = new Map<string, string | undefined>();
  const gradOf = (name: string): string | undefined => {
    if (total.has(name)) return total.get(name);
    const list = contributions.get(name);
    const sum = !list ? undefined : list.length === 1 ? list[0]! : g.op('Sum', list);
    total.set(name, sum);
    return sum;
  };
  const seed = options.seed ?? 1;
  add(options.loss, g.op('Expand', [g.constFloat(seed), g.constInt64(lossInfo.shape)]));

  const infoOf = (name: string): TensorInfo => {
    const t = info.get(name);
    if (!t) throw new GradientError(`no shape known for "${name}"`);
    return t;
  };
  for (let i = active.length - 1; i >= 0; i--) {
    const node = active[i]!;
    const dY = node.outputs.map((o) => (depends.has(o) ? gradOf(o) : undefined));
    if (dY.every((d) => d === undefined)) continue;
    const wants = node.inputs.map((input) => input !== '' && depends.has(input) && floatTensor(input));
    if (!wants.some(Boolean)) continue;
    const rule = GRADIENT_RULES[node.opType];
    if (!rule || node.domain) throw new GradientRuleError(node as NodeView, 'no gradient rule for this op');
    const dX = g.scope(`grad/${node.name}`, () => rule({ g, node, info: infoOf, dY, wants }));
    node.inputs.forEach((input, k) => {
      const d = dX[k];
      if (wants[k] && d !== undefined) add(input, d);
    });
  }

  const grads: Record<string, string> = {};
  for (const w of options.wrt) grads[w] = gradOf(w) ?? zeros(g, infoOf(w).shape);
  return { grads, info, differentiatedNodes: active.length };
}
