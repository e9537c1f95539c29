import { shapeSize, type HostTensor, type TensorDict } from '../../io/host-tensor';

/** A parameter's place in an arena. */
export interface ArenaSlot {
  name: string;
  shape: number[];
  offset: number;
  size: number;
}

/** Where further arenas of a layout come from (an `ArenaSpace`). */
export interface ArenaAllocator {
  /** Arenas still available. */
  readonly free: number;
  allocate(): ParameterArena;
}

/** The names and shapes of a state dict, in its order. */
export function layoutOf(dict: TensorDict): Array<{ name: string; shape: number[] }> {
  return Object.entries(dict).map(([name, t]) => ({ name, shape: [...t.shape] }));
}

/** Where each tensor of `layout` goes in an arena (back to back, in order). */
export function arenaSlots(layout: ReadonlyArray<{ name: string; shape: readonly number[] }>): ArenaSlot[] {
  let offset = 0;
  return layout.map(({ name, shape }) => {
    const size = shapeSize(shape);
    const slot = { name, shape: [...shape], offset, size };
    offset += size;
    return slot;
  });
}

/**
 * Named tensors laid out back to back in one Float32Array (PyTorch layouts): the weights,
 * gradients, moments or EMA of a network on an engine that keeps them in host memory (ONNX
 * Runtime). One contiguous buffer lets an optimizer update every parameter in one loop, and views
 * of it feed ORT without copies.
 */
export class ParameterArena {
  readonly slots: readonly ArenaSlot[];
  readonly data: Float32Array;
  private readonly byName: Map<string, ArenaSlot>;

  /**
   * `data` (optional) holds the values; `space` is the {@link ArenaSpace} it came from, whose
   * free arenas {@link zerosLike} uses (so gradients and moments join the weights in wasm memory).
   */
  constructor(layout: ReadonlyArray<{ name: string; shape: readonly number[] }>, data?: Float32Array, readonly space?: ArenaAllocator) {
    this.slots = arenaSlots(layout);
    const size = this.slots.reduce((n, s) => n + s.size, 0);
    this.byName = new Map(this.slots.map((s) => [s.name, s]));
    if (this.byName.size !== this.slots.length) throw new Error('ParameterArena: duplicate parameter names');
    if (data && data.length !== size) throw new Error(`ParameterArena: ${data.length} values for a layout of ${size}`);
    this.data = data ?? new Float32Array(size);
  }

  /** An arena with these tensors' names, shapes and values (in the dict's order), in plain memory. */
  static fromTensorDict(dict: TensorDict): ParameterArena {
    const arena = new ParameterArena(layoutOf(dict));
    arena.load(dict);
    return arena;
  }

  get names(): string[] {
    return this.slots.map((s) => s.name);
  }

  get size(): number {
    return this.data.length;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  slot(name: string): ArenaSlot {
    const s = this.byName.get(name);
    if (!s) throw new Error(`ParameterArena: no parameter "${name}"`);
    return s;
  }

  /** The values of `name` (a view: writes go to the arena). */
  view(name: string): Float32Array {
    const s = this.slot(name);
    return this.data.subarray(s.offset, s.offset + s.size);
  }

  /** A zero-filled arena with the same layout (in this arena's space while it has room). */
  zerosLike(): ParameterArena {
    return this.space && this.space.free > 0 ? this.space.allocate() : new ParameterArena(this.slots);
  }

  /** A copy of this arena. */
  clone(): ParameterArena {
    return new ParameterArena(this.slots, Float32Array.from(this.data));
  }

  /** The tensors as a state dict of views (no copy; later writes to the arena show through). */
  toTensorDict(): TensorDict {
    const out: TensorDict = {};
    for (const s of this.slots) out[s.name] = { shape: [...s.shape], data: this.data.subarray(s.offset, s.offset + s.size) };
    return out;
  }

  /** Copies every tensor of the layout from `dict`; each must exist with the same shape. */
  load(dict: TensorDict, source = 'state dict'): void {
    for (const s of this.slots) {
      const t: HostTensor | undefined = dict[s.name];
      if (!t) throw new Error(`${source}: no tensor "${s.name}"`);
      if (t.shape.length !== s.shape.length || t.shape.some((d, i) => d !== s.shape[i])) {
        throw new Error(`${source}: "${s.name}" has shape [${t.shape.join(', ')}], expected [${s.shape.join(', ')}]`);
      }
      this.data.set(t.data, s.offset);
    }
  }
}

