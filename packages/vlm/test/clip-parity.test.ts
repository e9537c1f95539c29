import path from 'node:path';
import { createClipExtractor, verifyClipReference, type ClipExtractor } from '../src';

const fixture = path.join(__dirname, 'fixtures', 'tiny-clip');

describe('tiny-clip parity', () => {
  it('verifyClipReference passes every row in python mode', async () => {
    const rows = await verifyClipReference(fixture);
    console.table(rows);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row.pass).toBe(true);
  });

  it('transformers-js mode', async () => {
    const rows = await verifyClipReference(fixture, { preprocessing: 'transformers-js' });
    console.table(rows);
  });
});
