import type { OnnxGraphBuilder } from '../../graph-builder';
import type { NodeView } from '../graph-view';
import type { TensorInfo } from '../shape-inference';

/** What a gradient rule sees of one forward node. */
export interface GradContext {
  /** The graph being extended with the backward nodes. */
  g: OnnxGraphBuilder;
  node: NodeView;
  /** Static shape, type and known values of any forward tensor. */
  info(name: string): TensorInfo;
  /** Gradient of the loss w.r.t. each output of the node (undefined: none reaches that output). */
  dY: readonly (string | undefined)[];
  /** Which inputs need a gradient (those on a path from a differentiated tensor). */
  wants: readonly boolean[];
}

/**
 * A reverse-mode rule: from the gradients of a node's outputs, the gradients of its inputs (same
 * shapes as the inputs), `undefined` where an input is not wanted or gets none.
 */
export type GradRule = (c: GradContext) => (string | undefined)[];

export class GradientRuleError extends Error {
  constructor(node: NodeView, message: string) {
    super(`gradient of ${node.name} (${node.opType}): ${message}`);
    this.name = 'GradientRuleError';
  }
}
