import { Module } from '@srdiff/core';

/** `nn.ModuleList`: children named '0', '1', … in order. */
export class ModuleList<M extends Module> extends Module {
  readonly items: readonly M[];

  constructor(items: M[]) {
    super();
    items.forEach((m, i) => this.addModule(String(i), m));
    this.items = items;
  }
}

/**
 * The parameter-holding members of an `nn.Sequential`, under their original indices. Parameter-free
 * members (SiLU, GELU, Dropout, nn.Upsample) are applied by the owner's `forward` and leave gaps in
 * the numbering, so `mlp.1.weight` or `ff.net.2.bias` keep PyTorch's names.
 */
export class SparseSequential extends Module {
  constructor(entries: Array<[index: number, module: Module]>) {
    super();
    for (const [i, m] of entries) this.addModule(String(i), m);
  }
}
