/**
 * Seeded pseudo-random numbers for everything random in srdiff (noise, crops, shuffles), so a run
 * reproduces from its seed and a resumed run continues the same stream.
 *
 * Generator: xoshiro128** (Blackman & Vigna), 128-bit state, seeded through splitmix32. Normal
 * draws use the Box–Muller transform (both values of a pair are used, the spare is part of the
 * state so `getState`/`setState` round-trip exactly).
 */
export interface RngState {
  s: [number, number, number, number];
  spare: number | null;
}

function splitmix32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x9e3779b9) >>> 0;
    let z = a;
    z = imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

// Math functions hoisted to module constants: the generator runs millions of times per image, and
// under sandboxes such as jest's each `Math.*` lookup in a hot loop is costly (measured ~90x).
const { imul, sqrt, log, cos, sin, PI } = Math;

const rotl = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;

export class Rng {
  private s: Uint32Array;
  private spare: number | null = null;

  constructor(seed = 0) {
    if (!Number.isFinite(seed)) throw new Error(`Rng: seed must be a finite number, got ${seed}`);
    const sm = splitmix32(Math.floor(seed) ^ Math.floor(seed / 2 ** 32));
    this.s = new Uint32Array([sm(), sm(), sm(), sm()]);
    if (this.s.every((v) => v === 0)) this.s[0] = 1;
  }

  /** A 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const result = imul(rotl(imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Integer in [lo, hi] (both inclusive), unbiased. */
  int(lo: number, hi: number): number {
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || hi < lo) {
      throw new Error(`Rng.int: need integers lo <= hi, got ${lo}, ${hi}`);
    }
    const range = hi - lo + 1;
    if (range > 4294967296) throw new Error(`Rng.int: range ${range} exceeds 2^32`);
    const limit = 4294967296 - (4294967296 % range);
    let x: number;
    do x = this.nextUint32();
    while (x >= limit);
    return lo + (x % range);
  }

  /** Standard normal draw (Box–Muller). */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = sqrt(-2 * log(u));
    this.spare = r * sin(2 * PI * v);
    return r * cos(2 * PI * v);
  }

  /**
   * `n` standard normal draws as float32 — the same values as `n` calls of `normal()`, computed in
   * a tight loop (it feeds every sampling step, so it is kept cheap).
   */
  normalArray(n: number): Float32Array {
    const out = new Float32Array(n);
    let i = 0;
    if (this.spare !== null && n > 0) {
      out[i++] = this.spare;
      this.spare = null;
    }
    const twoPi = 2 * PI;
    for (; i + 1 < n; i += 2) {
      let u = 0;
      while (u === 0) u = this.uniform();
      const v = this.uniform();
      const r = sqrt(-2 * log(u));
      out[i] = r * cos(twoPi * v);
      out[i + 1] = r * sin(twoPi * v);
    }
    if (i < n) out[i] = this.normal();
    return out;
  }

  /** `n` uniform [0, 1) draws as float32. */
  uniformArray(n: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.uniform();
    return out;
  }

  /** Fisher–Yates shuffle in place; returns the array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }

  /** A permutation of 0..n-1. */
  permutation(n: number): number[] {
    return this.shuffle(Array.from({ length: n }, (_, i) => i));
  }

  /** An independent generator derived from this one (advances this one by one draw). */
  fork(): Rng {
    return new Rng(this.nextUint32() * 65536 + (this.nextUint32() & 0xffff));
  }

  getState(): RngState {
    return { s: [this.s[0]!, this.s[1]!, this.s[2]!, this.s[3]!], spare: this.spare };
  }

  setState(state: RngState): void {
    if (!state || !Array.isArray(state.s) || state.s.length !== 4) {
      throw new Error('Rng.setState: expected { s: [4 uint32], spare }');
    }
    this.s = new Uint32Array(state.s);
    this.spare = state.spare ?? null;
  }

  static fromState(state: RngState): Rng {
    const r = new Rng(0);
    r.setState(state);
    return r;
  }
}
