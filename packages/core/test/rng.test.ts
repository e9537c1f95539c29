import { Rng } from '../src';

describe('Rng', () => {
  test('the same seed gives the same stream; different seeds differ', () => {
    const a = new Rng(42), b = new Rng(42), c = new Rng(43);
    const sa = Array.from({ length: 5 }, () => a.uniform());
    expect(Array.from({ length: 5 }, () => b.uniform())).toEqual(sa);
    expect(Array.from({ length: 5 }, () => c.uniform())).not.toEqual(sa);
  });

  test('state round-trips mid-stream, including the spare normal', () => {
    const r = new Rng(7);
    r.normal();
    const state = r.getState();
    const next = [r.normal(), r.uniform(), r.int(0, 9)];
    const s = Rng.fromState(JSON.parse(JSON.stringify(state)));
    expect([s.normal(), s.uniform(), s.int(0, 9)]).toEqual(next);
  });

  test('normal draws have mean 0 and variance 1; ints cover the range uniformly', () => {
    const r = new Rng(1);
    const n = 200000;
    const x = r.normalArray(n);
    const mean = x.reduce((a, b) => a + b, 0) / n;
    const v = x.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(Math.abs(v - 1)).toBeLessThan(0.02);
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 60000; i++) counts[r.int(1, 6) - 1]++;
    counts.forEach((cnt) => expect(Math.abs(cnt - 10000)).toBeLessThan(500));
  });

  test('permutations contain every index once', () => {
    const p = new Rng(3).permutation(100);
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(p).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  test('bad arguments are rejected', () => {
    expect(() => new Rng(NaN)).toThrow(/seed must be a finite number/);
    expect(() => new Rng(0).int(5, 2)).toThrow(/lo <= hi/);
  });
});

test('normalArray equals repeated normal() calls, whatever the spare state', () => {
  for (const pre of [0, 1]) {
    const a = new Rng(11), b = new Rng(11);
    for (let k = 0; k < pre; k++) { a.normal(); b.normal(); }
    const arr = a.normalArray(7);
    const one = Float32Array.from({ length: 7 }, () => b.normal());
    expect(Array.from(arr)).toEqual(Array.from(one));
    expect(a.normal()).toBe(b.normal());
  }
});
