import { formatTable } from '../src/ui/table';

describe('formatTable', () => {
  test('right-aligns numbers and pre-formatted numeric strings, left-aligns text', () => {
    const text = formatTable(['task', 'PSNR', 'gain'], [['low-light', '6.88', '+0.66'], ['motion-blurry', '23.57', '-3.80']]);
    const lines = text.split('\n');
    expect(lines[0]).toBe(`task${' '.repeat(12)}PSNR   gain`);
    expect(lines[2]).toBe(`low-light${' '.repeat(7)}6.88  +0.66`);
    expect(lines[3]).toBe('motion-blurry  23.57  -3.80');
  });

  test('formats raw numbers: integers as they are, large values with 2 decimals, small with 4', () => {
    const lines = formatTable(['n', 'psnr', 'ssim'], [[2, 25.3012, 0.91734]]).split('\n');
    expect(lines[2]).toBe('2  25.30  0.9173');
  });
});
