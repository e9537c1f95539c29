import type { OnnxGraphBuilder } from '@srdiff/core';

/**
 * transformers' `ACT2FN[hidden_act]` as ONNX ops. BLIP's checkpoints use `'gelu'`, the exact
 * erf GELU (not the tanh approximation); the others are there for configs that name them.
 */
export function emitActivation(g: OnnxGraphBuilder, x: string, act: string): string {
  switch (act) {
    case 'gelu':
      return g.gelu(x);
    case 'relu':
      return g.op('Relu', [x]);
    case 'quick_gelu':
      return g.mul(x, g.sigmoid(g.mul(x, g.constFloat(1.702))));
    case 'gelu_new':
    case 'gelu_pytorch_tanh': {
      // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
      const cube = g.mul(g.mul(x, x), x);
      const inner = g.mul(g.add(x, g.mul(cube, g.constFloat(0.044715))), g.constFloat(Math.sqrt(2 / Math.PI)));
      return g.mul(g.mul(x, g.add(g.op('Tanh', [inner]), g.constFloat(1))), g.constFloat(0.5));
    }
    default:
      throw new Error(`BLIP graph: activation '${act}' is not supported`);
  }
}
