import { Linear, Module, gelu, tf, linear } from '@srdiff/core';

/**
 * `nn.Sequential(nn.Linear(in, hidden), nn.GELU(), nn.Linear(hidden, out))`: the original's upper
 * path and each encoder layer's `post_net`. The linears are registered as `0` and `2` (the GELU at
 * index 1 has no parameters), so the state-dict keys are PyTorch's (`upper_path.0.weight`, ...).
 */
export class GeluMlp extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(inFeatures: number, hiddenFeatures: number, outFeatures: number) {
    super();
    this.fc1 = this.addModule('0', new Linear(inFeatures, hiddenFeatures));
    this.fc2 = this.addModule('2', new Linear(hiddenFeatures, outFeatures));
  }

  /** `[..., in]` → `[..., out]`; GELU is the exact (erf) one, PyTorch's default. */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => linear(gelu(linear(x, this.fc1.weight, this.fc1.bias)), this.fc2.weight, this.fc2.bias));
  }
}
