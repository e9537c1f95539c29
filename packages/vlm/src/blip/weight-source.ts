import type { HostTensor, TensorDict } from '@srdiff/core';

export class BlipWeightsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BlipWeightsError';
  }
}

/**
 * The state dict a BLIP graph is built from, by PyTorch name. Every read checks the shape the
 * config implies, keys the graph does not need are skipped by name, and {@link assertAllUsed}
 * fails on anything left over, so a checkpoint that does not fit its config is named key by key
 * instead of producing a wrong graph. (The same contract as `@srdiff/unet`'s ONNX export.)
 */
export class BlipWeightSource {
  private readonly used = new Set<string>();

  constructor(
    private readonly dict: TensorDict,
    private readonly source = 'BLIP state dict',
  ) {}

  /** The tensor `name`, which must have `shape`. */
  take(name: string, shape: readonly number[]): HostTensor {
    const t = this.dict[name];
    if (!t) throw new BlipWeightsError(`${this.source}: missing key "${name}" (expected shape [${shape.join(', ')}])`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new BlipWeightsError(`${this.source}: "${name}" has shape [${t.shape.join(', ')}], the config implies [${shape.join(', ')}]`);
    }
    if (t.data.length !== shape.reduce((a, b) => a * b, 1)) throw new BlipWeightsError(`${this.source}: "${name}" holds ${t.data.length} values for shape [${shape.join(', ')}]`);
    this.used.add(name);
    return t;
  }

  /** Marks keys the embedding does not depend on (present or not). */
  skip(predicate: (key: string) => boolean): void {
    for (const key of Object.keys(this.dict)) if (predicate(key)) this.used.add(key);
  }

  /** Throws when the dict holds keys nothing read or skipped. */
  assertAllUsed(): void {
    const unexpected = Object.keys(this.dict).filter((k) => !this.used.has(k));
    if (unexpected.length) {
      const shown = unexpected.slice(0, 10).map((k) => `"${k}"`).join(', ');
      throw new BlipWeightsError(`${this.source}: ${unexpected.length} key(s) this BLIP config has no place for: ${shown}${unexpected.length > 10 ? ', …' : ''}`);
    }
  }
}

/** `[rows, cols]` → `[cols, rows]`: a Linear weight `[out, in]` as the right operand of MatMul. */
export function transposed(t: HostTensor): Float32Array {
  const [rows, cols] = t.shape as [number, number];
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = t.data[r * cols + c]!;
  return out;
}
