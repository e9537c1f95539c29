import { mapLimit } from '../src';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('mapLimit', () => {
  test('keeps the order of the items and never runs more than `limit` at once', async () => {
    let running = 0;
    let peak = 0;
    const delays = [30, 5, 20, 1, 15, 2, 8, 1];
    const out = await mapLimit(delays, 3, async (ms, i) => {
      running += 1;
      peak = Math.max(peak, running);
      await tick(ms);
      running -= 1;
      return `${i}:${ms}`;
    });
    expect(out).toEqual(delays.map((ms, i) => `${i}:${ms}`));
    expect(peak).toBe(3);
  });

  test('an empty list, and a limit above the count', async () => {
    expect(await mapLimit([], 4, async () => 1)).toEqual([]);
    expect(await mapLimit([1, 2], 10, async (x) => x * 2)).toEqual([2, 4]);
  });

  test('the first rejection rejects the whole; no new call starts after it', async () => {
    const started: number[] = [];
    const run = mapLimit([0, 1, 2, 3, 4, 5], 2, async (x) => {
      started.push(x);
      await tick(5);
      if (x === 1) throw new Error('item 1 failed');
      return x;
    });
    await expect(run).rejects.toThrow('item 1 failed');
    await tick(30);
    expect(started).toEqual([0, 1, 2]);
  });

  test('a limit that is not a positive integer is refused', async () => {
    for (const limit of [0, -1, 1.5, NaN]) await expect(mapLimit([1], limit, async (x) => x)).rejects.toThrow(/limit must be a positive integer/);
  });
});
