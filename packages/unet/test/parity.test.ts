import { formatVerifyTable, selectBackend, type VerifyRow } from '@srdiff/core';
import { verifyUnetReference } from '../src';
import { REFERENCE_DIR, referenceMeta } from './helpers';

/**
 * Parity with the original PyTorch ConditionalUNet (the reference set's unet/, copied into
 * fixtures): state-dict keys and shapes, parameter count, forward output and intermediate
 * activations, the IR-SDE training step and the gradient of every parameter — each within the
 * tolerance the reference's meta.json states.
 */
describe('parity with the original (reference unet/)', () => {
  let rows: VerifyRow[];

  beforeAll(async () => {
    await selectBackend('wasm');
    rows = await verifyUnetReference(REFERENCE_DIR);
    const grads = rows.filter((r) => r.key.startsWith('grads.'));
    const worst = grads.reduce((a, b) => (b.error > a.error ? b : a), grads[0]!);
    console.log(`${formatVerifyTable(rows.filter((r) => !r.key.startsWith('grads.') || !r.pass))}\n` +
      `gradients: ${grads.length} rows, worst ${worst?.key} ${worst?.error.toExponential(2)} (tolerance ${worst?.tolerance})`);
  });

  test('every row passes', () => {
    expect(rows.filter((r) => !r.pass)).toEqual([]);
  });

  test('covers keys, parameter count, output, every debug activation, the train step and all 217 gradients', () => {
    const keys = new Set(rows.map((r) => r.key));
    for (const k of ['weights.safetensors:keys', 'meta:param_count', 'io.safetensors:out', 'io.safetensors:debug.mid_attn.out', 'io.safetensors:debug.init_conv.in',
      'train_step.safetensors:state', 'train_step.safetensors:noise_pred', 'train_step.safetensors:score', 'train_step.safetensors:xt_1_expectation',
      'train_step.safetensors:xt_1_optimum', 'train_step.safetensors:loss', 'meta:forward_without_image_context']) {
      expect(keys).toContain(k);
    }
    expect(rows.filter((r) => r.key.startsWith('io.safetensors:debug.'))).toHaveLength(8);
    const meta = referenceMeta();
    expect(rows.filter((r) => r.key.startsWith('grads.safetensors:'))).toHaveLength(meta.params.length);
  });
});

describe('parity with the original on ONNX Runtime (inference graph + training-step graph)', () => {
  let rows: VerifyRow[];

  beforeAll(async () => {
    await selectBackend('wasm');
    rows = await verifyUnetReference(REFERENCE_DIR, { engine: 'onnx' });
    const grads = rows.filter((r) => r.key.startsWith('grads.'));
    const worst = grads.reduce((a, b) => (b.error > a.error ? b : a), grads[0]!);
    console.log(`onnx\n${formatVerifyTable(rows.filter((r) => !r.key.startsWith('grads.') || !r.pass))}\n` +
      `gradients: ${grads.length} rows, worst ${worst?.key} ${worst?.error.toExponential(2)} (tolerance ${worst?.tolerance})`);
  });

  test('every row passes', () => {
    expect(rows.filter((r) => !r.pass)).toEqual([]);
  });

  test('covers keys, output, every debug activation, the loss and all 217 gradients', () => {
    const keys = new Set(rows.map((r) => r.key));
    for (const k of ['weights.safetensors:keys', 'meta:param_count', 'io.safetensors:out', 'train_step.safetensors:loss', 'meta:forward_without_image_context']) expect(keys).toContain(k);
    expect(rows.filter((r) => r.key.startsWith('io.safetensors:debug.'))).toHaveLength(8);
    expect(rows.filter((r) => r.key.startsWith('grads.safetensors:'))).toHaveLength(referenceMeta().params.length);
  });
});
