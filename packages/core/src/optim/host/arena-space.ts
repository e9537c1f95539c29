import { ADAMW_WASM_BASE64 } from './adamw-wasm';
import { arenaSlots, layoutOf, ParameterArena, type ArenaAllocator, type ArenaSlot } from './parameter-arena';
import type { TensorDict } from '../../io/host-tensor';

/** The exported function of `tools/wasm/adamw.wat`. */
type AdamWKernel = (p: number, g: number, m: number, v: number, n: number, decay: number, take1: number, keep2: number, take2: number, bc2: number, eps: number, step: number) => void;

const WASM_PAGE = 65536;
/** wasm32 addresses 4 GiB: 65536 pages. */
const MAX_PAGES = 65536;

let compiled: WebAssembly.Module | null | undefined;
function kernelModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(Uint8Array.from(atob(ADAMW_WASM_BASE64), (c) => c.charCodeAt(0)));
    } catch {
      compiled = null; // no WebAssembly SIMD here: the optimizer falls back to its JavaScript loop
    }
  }
  return compiled;
}

/**
 * Room for several arenas of one layout (weights, gradients, both AdamW moments) in one
 * WebAssembly memory, so the optimizer's update runs as a SIMD kernel over them (~10× the scalar
 * JavaScript loop, bit-identical). The memory is sized once and never grows, so the arenas' views
 * (which ONNX Runtime reads and writes in place) stay valid. Where wasm SIMD is missing or the
 * arenas exceed wasm32's 4 GiB, arenas are plain Float32Arrays and {@link kernel} is undefined.
 */
export class ArenaSpace implements ArenaAllocator {
  private next = 0;
  private readonly byteOffsets = new WeakMap<ParameterArena, number>();

  private constructor(
    readonly layout: readonly ArenaSlot[],
    readonly capacity: number,
    private readonly stride: number,
    private readonly memory: WebAssembly.Memory | undefined,
    private readonly adamw: AdamWKernel | undefined,
  ) {}

  /** Space for `capacity` arenas of `layout`. */
  static create(layout: ReadonlyArray<{ name: string; shape: readonly number[] }>, capacity: number): ArenaSpace {
    const slots = arenaSlots(layout);
    const size = slots.reduce((n, s) => n + s.size, 0);
    // 16-byte aligned arenas (the kernel loads four lanes at a time).
    const stride = Math.ceil(size / 4) * 4;
    const pages = Math.ceil((stride * 4 * capacity) / WASM_PAGE) || 1;
    const module = kernelModule();
    if (!module || pages > MAX_PAGES) return new ArenaSpace(slots, capacity, stride, undefined, undefined);
    try {
      const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
      const instance = new WebAssembly.Instance(module, { env: { memory } });
      return new ArenaSpace(slots, capacity, stride, memory, instance.exports.adamw as AdamWKernel);
    } catch {
      return new ArenaSpace(slots, capacity, stride, undefined, undefined); // memory refused (address space): plain arrays
    }
  }

  /**
   * An arena holding `dict` (its order and values) in a new space with room for `capacity` arenas
   * of its layout: the weights plus, through `zerosLike()`, their gradients and AdamW moments.
   */
  static fromTensorDict(dict: TensorDict, capacity = 4): ParameterArena {
    const arena = ArenaSpace.create(layoutOf(dict), capacity).allocate();
    arena.load(dict);
    return arena;
  }

  /** Whether the SIMD kernel is available (arenas live in wasm memory). */
  get accelerated(): boolean {
    return this.adamw !== undefined;
  }

  /** Arenas still free. */
  get free(): number {
    return this.capacity - this.next;
  }

  /** A zero-filled arena of the layout from this space. */
  allocate(): ParameterArena {
    if (this.next >= this.capacity) throw new Error(`ArenaSpace: all ${this.capacity} arenas are taken`);
    const index = this.next++;
    if (!this.memory) return new ParameterArena(this.layout, undefined, this);
    const offset = index * this.stride * 4;
    const arena = new ParameterArena(this.layout, new Float32Array(this.memory.buffer, offset, this.layout.reduce((n, s) => n + s.size, 0)), this);
    this.byteOffsets.set(arena, offset);
    return arena;
  }

  /**
   * The AdamW update of `HostAdamW` over four arenas of this space, in wasm SIMD; false (nothing
   * done) when they are not all in this space's memory.
   */
  adamwUpdate(arenas: { p: ParameterArena; g: ParameterArena; m: ParameterArena; v: ParameterArena }, c: { decay: number; take1: number; keep2: number; take2: number; bc2Sqrt: number; eps: number; stepSize: number }): boolean {
    const { adamw } = this;
    if (!adamw) return false;
    const offsets = [arenas.p, arenas.g, arenas.m, arenas.v].map((a) => this.byteOffsets.get(a));
    if (offsets.some((o) => o === undefined)) return false;
    const [p, g, m, v] = offsets as number[];
    adamw(p!, g!, m!, v!, arenas.p.size, c.decay, c.take1, c.keep2, c.take2, c.bc2Sqrt, c.eps, c.stepSize);
    return true;
  }
}
