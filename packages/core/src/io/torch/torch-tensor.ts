import type { HostTensor } from '../host-tensor';
import type { StorageType, TorchDtype, TorchTensorData } from './torch-dtypes';

/** Where a tensor's storage lives in its file, as its persistent id names it. */
export interface StorageRef {
  /** Zip entry `data/<key>`, or the legacy format's root key. */
  key: string;
  type: StorageType;
  /** Elements the pickle declares for the storage. */
  numel: number;
  /** `cpu`, `cuda:0`, … (every tensor is read to host memory; the location is informational). */
  location: string;
  /** Legacy storage views: where the view starts inside the root storage, in elements. */
  viewOffset: number;
}

/** How a tensor was laid out in its storage (what `torch.save` recorded). */
export interface TensorLayout {
  storage: StorageRef;
  storageOffset: number;
  stride: number[];
}

/**
 * A tensor read from a `torch.save` file. Its values are contiguous and row-major whatever the view
 * in the file was (a slice of a bigger storage, an offset, transposed strides); `layout` keeps what
 * the file recorded.
 */
export class TorchTensor {
  private values?: TorchTensorData;

  constructor(
    readonly dtype: TorchDtype,
    readonly shape: readonly number[],
    readonly layout: TensorLayout,
    readonly requiresGrad: boolean,
  ) {}

  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  /** The values (see {@link TorchTensorData} for the array type per dtype). */
  get data(): TorchTensorData {
    if (!this.values) throw new Error(`TorchTensor ${this.dtype}[${this.shape.join(', ')}]: values were not read (internal error)`);
    return this.values;
  }

  /** @internal The reader fills the values once the storage has been read. */
  setData(values: TorchTensorData): void {
    this.values = values;
  }

  /** The values as float32 (integers converted as `Number(v)`; int64 beyond 2²⁴ rounds, as `.float()` does). */
  toFloat32(): Float32Array {
    const d = this.data;
    if (d instanceof Float32Array) return d;
    const out = new Float32Array(d.length);
    for (let i = 0; i < d.length; i++) out[i] = Number(d[i]!);
    return out;
  }

  toHostTensor(): HostTensor {
    return { shape: [...this.shape], data: this.toFloat32() };
  }
}

export function isTorchTensor(v: unknown): v is TorchTensor {
  return v instanceof TorchTensor;
}
