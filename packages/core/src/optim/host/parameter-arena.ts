import { shapeSize, type HostTensor, type TensorDict } from '../../io/host-tensor';

/** A parameter's place in an arena. */
export interface ArenaSlot {
  name: string;
  shape: number[];
  offset: number;
  size: number;
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

  constructor(layout: ReadonlyArray<{ name: string; shape: readonly number[] }>, data?: Float32Array) {
    let offset = 0;
    this.slots = layout.map(({ name, shape }) => {
      const size = shapeSize(shape);
      const slot = { name, shape: [...shape], offset, size };
      offset += size;
      return slot;
    });
    this.byName = new Map(this.slots.map((s) => [s.name, s]));
    if (this.byName.size !== this.slots.length) throw new Error('ParameterArena: duplicate parameter names');
    if (data && data.length !== offset) throw new Error(`ParameterArena: ${data.length} values for a layout of ${offset}`);
    this.data = data ?? new Float32Array(offset);
  }

  /** An arena with these tensors' names, shapes and values (in the dict's order). */
  static fromTensorDict(dict: TensorDict): ParameterArena {
    const arena = new ParameterArena(Object.entries(dict).map(([name, t]) => ({ name, shape: t.shape })));
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

  /** A zero-filled arena with the same layout. */
  zerosLike(): ParameterArena {
    return new ParameterArena(this.slots);
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
