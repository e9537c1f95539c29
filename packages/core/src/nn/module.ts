import * as tf from '@tensorflow/tfjs-core';
import type { HostTensor, TensorDict } from '../io/host-tensor';
import { Parameter, type ParameterLayout } from './parameter';
import { StateDictError, type ShapeMismatch } from './state-dict-error';

export interface LoadStateDictOptions {
  /** Require the key sets to match exactly (PyTorch's `strict=True`). Default true. */
  strict?: boolean;
  /** Names the origin of the weights (a file path) in error messages. */
  source?: string;
  /** Extra line appended to a mismatch error, e.g. a guess of the config the weights belong to. */
  hint?: (error: { missing: string[]; unexpected: string[]; mismatched: ShapeMismatch[] }) => string | undefined;
}

/**
 * Base of every network piece, modelled on `torch.nn.Module`: parameters and child modules are
 * registered under names, and their dotted paths (`downs.0.1.block1.proj.weight`) are the
 * state-dict keys — the interop contract with checkpoints of the original PyTorch code.
 * Registration order is the state-dict order, as in PyTorch.
 */
export abstract class Module {
  private readonly ownParameters = new Map<string, Parameter>();
  private readonly children = new Map<string, Module>();

  /** Registers a parameter; returns its tfjs variable for use in `forward`. */
  protected addParameter(name: string, value: tf.Tensor, layout: ParameterLayout = 'torch'): tf.Variable {
    this.assertFreeName(name);
    const p = new Parameter(value, layout);
    value.dispose();
    this.ownParameters.set(name, p);
    return p.variable;
  }

  /** Registers a child module under `name` (use '0', '1', ... for `nn.Sequential`-style indices). */
  protected addModule<M extends Module>(name: string, module: M): M {
    this.assertFreeName(name);
    this.children.set(name, module);
    return module;
  }

  private assertFreeName(name: string): void {
    if (!name || name.includes('.')) throw new Error(`${this.constructor.name}: invalid name "${name}"`);
    if (this.ownParameters.has(name) || this.children.has(name)) {
      throw new Error(`${this.constructor.name}: "${name}" is registered twice`);
    }
  }

  /** Child modules in registration order. */
  namedChildren(): Array<[string, Module]> {
    return [...this.children.entries()];
  }

  /** A child module by dotted path, e.g. `downs.3.2`. */
  getModule(path: string): Module {
    let m: Module = this;
    for (const part of path.split('.')) {
      const next = m.children.get(part);
      if (!next) throw new Error(`${this.constructor.name}: no submodule "${path}" (stopped at "${part}")`);
      m = next;
    }
    return m;
  }

  /** Every parameter with its state-dict key, in PyTorch's `named_parameters()` order. */
  namedParameters(prefix = ''): Array<[string, Parameter]> {
    const out: Array<[string, Parameter]> = [];
    for (const [name, p] of this.ownParameters) out.push([prefix + name, p]);
    for (const [name, child] of this.children) out.push(...child.namedParameters(`${prefix}${name}.`));
    return out;
  }

  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Number of scalar parameters (PyTorch's `sum(p.numel() for p in model.parameters())`). */
  parameterCount(): number {
    return this.parameters().reduce((n, p) => n + p.size, 0);
  }

  /** The variables that receive gradients (trainable parameters), keyed by state-dict name. */
  trainableVariables(): Record<string, tf.Variable> {
    const out: Record<string, tf.Variable> = {};
    for (const [name, p] of this.namedParameters()) if (p.trainable) out[name] = p.variable;
    return out;
  }

  /** Freezes (false) or unfreezes (true) every parameter. */
  setTrainable(flag: boolean): this {
    for (const p of this.parameters()) p.setTrainable(flag);
    return this;
  }

  /** Copies every parameter to host memory in PyTorch layout, keyed by state-dict name. */
  stateDict(): TensorDict {
    const out: TensorDict = {};
    for (const [name, p] of this.namedParameters()) out[name] = p.toHost();
    return out;
  }

  /**
   * Loads PyTorch-layout weights by name. Every problem is reported at once (missing, unexpected
   * and mis-shaped keys) before anything is assigned, so a failed load leaves the model unchanged.
   * A `module.` prefix (DataParallel) is stripped.
   */
  loadStateDict(dict: TensorDict, options: LoadStateDictOptions = {}): void {
    const { strict = true, source = this.constructor.name } = options;
    const own = new Map(this.namedParameters());
    const incoming = new Map<string, HostTensor>();
    for (const [k, v] of Object.entries(dict)) incoming.set(k.startsWith('module.') ? k.slice(7) : k, v);

    const missing = [...own.keys()].filter((k) => !incoming.has(k));
    const unexpected = [...incoming.keys()].filter((k) => !own.has(k));
    const mismatched: ShapeMismatch[] = [];
    for (const [k, p] of own) {
      const t = incoming.get(k);
      if (t && !sameShape(t.shape, p.torchShape)) mismatched.push({ key: k, expected: p.torchShape, got: t.shape });
    }
    if (mismatched.length || (strict && (missing.length || unexpected.length))) {
      const hint = options.hint?.({ missing, unexpected, mismatched });
      throw new StateDictError(source, missing, unexpected, mismatched, hint);
    }
    for (const [k, p] of own) {
      const t = incoming.get(k);
      if (t) p.assignHost(t);
    }
  }

  /** Releases every parameter's memory; the module is unusable afterwards. */
  dispose(): void {
    for (const p of this.parameters()) p.dispose();
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
