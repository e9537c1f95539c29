import type { HostTensor, TensorDict } from '@srdiff/core';

export class OnnxExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnnxExportError';
  }
}

/**
 * The state dict an export reads from (PyTorch names and layouts). Every read checks the shape the
 * architecture expects, and the export ends by listing keys it never read, so a checkpoint of
 * another config fails with the names of what does not fit instead of producing a wrong graph.
 */
export class WeightSource {
  private readonly used = new Set<string>();

  constructor(private readonly dict: TensorDict, private readonly source = 'state dict') {}

  /** The tensor `name`, which must have `shape`. */
  take(name: string, shape: readonly number[]): HostTensor {
    const t = this.dict[name];
    if (!t) throw new OnnxExportError(`${this.source}: missing key "${name}" (expected shape [${shape.join(', ')}])`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new OnnxExportError(`${this.source}: "${name}" has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
    }
    if (t.data.length !== shape.reduce((a, b) => a * b, 1)) throw new OnnxExportError(`${this.source}: "${name}" holds ${t.data.length} values for shape [${shape.join(', ')}]`);
    this.used.add(name);
    return t;
  }

  /** Marks keys that exist for the architecture but do not influence this graph (e.g. unused norms). */
  skip(names: readonly string[]): void {
    for (const name of names) if (this.dict[name]) this.used.add(name);
  }

  /** Throws when the dict holds keys the export never read. */
  assertAllUsed(): void {
    const unexpected = Object.keys(this.dict).filter((k) => !this.used.has(k));
    if (unexpected.length) {
      const shown = unexpected.slice(0, 10).map((k) => `"${k}"`).join(', ');
      throw new OnnxExportError(`${this.source}: ${unexpected.length} unexpected key(s) for this config: ${shown}${unexpected.length > 10 ? ', …' : ''}`);
    }
  }
}

/** `[rows, cols]` → `[cols, rows]` (a Linear weight `[out, in]` as the right operand of MatMul). */
export function transpose2d(t: HostTensor): Float32Array {
  const [rows, cols] = t.shape as [number, number];
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = t.data[r * cols + c]!;
  return out;
}
