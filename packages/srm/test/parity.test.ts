/**
 * @srdiff/srm against the original PyTorch SRM (`sr/CLSEnhancer.py` + one training step of
 * `sr/train.py`): the reference vectors of shared/reference/srm, copied to fixtures/srm, with the
 * tolerances of its meta.json. `verifySrmReference` is what `srdiff verify` runs; the tests below
 * it check the points it cannot see (q/k gradients, the length-1 shortcut against full attention).
 */
import { clipGradNorm, disposeGradients, formatVerifyTable, selectBackend, tf, valueAndGrads, type VerifyRow } from '@srdiff/core';
import { SemanticRefinementModule, hybridLoss, verifySrmReference } from '../src';
import { SRM_FIXTURE, fixture, fixtureMeta, relError } from './helpers';

const meta = fixtureMeta();

describe.each(['wasm', 'cpu'] as const)('SRM reference on %s', (backend) => {
  let rows: VerifyRow[];

  beforeAll(async () => {
    await selectBackend(backend);
    rows = await verifySrmReference(SRM_FIXTURE);
    // Printed so the measured errors are visible in the test log.
    console.log(`${backend}\n${formatVerifyTable(rows)}`);
  });

  test('every row passes within the reference tolerance', () => {
    const failed = rows.filter((r) => !r.pass);
    expect(failed).toEqual([]);
  });

  test('covers every key the reference has a tolerance for', () => {
    const keys = new Set(rows.map((r) => r.key));
    for (const key of Object.keys(meta.tolerances)) expect(keys).toContain(key);
    expect(keys).toContain('meta:params');
    expect(keys).toContain('meta:scheduled_steps.per_step.loss');
    expect(keys).toContain('meta:adamw_probe.per_step.loss');
  });

  test('gradients of the q/k rows of in_proj are exactly 0, as in PyTorch (length-1 sequences)', async () => {
    const weights = await fixture('srm/weights.safetensors');
    const io = await fixture('srm/io.safetensors');
    const model = SemanticRefinementModule.fromStateDict(weights, { numHeads: meta.constructor.num_heads });
    const x = tf.tensor2d(io.x!.data, io.x!.shape as [number, number]);
    const target = tf.tensor2d(io.target!.data, io.target!.shape as [number, number]);
    const H = meta.constructor.hidden_dim;
    const { value, grads } = valueAndGrads(model, () => hybridLoss(model.forward(x), target, meta.hybrid_loss_alpha));
    for (let i = 0; i < meta.constructor.num_layers; i++) {
      const w = grads[`sr_encoders.${i}.mha.in_proj_weight`]!.dataSync();
      const b = grads[`sr_encoders.${i}.mha.in_proj_bias`]!.dataSync();
      expect(Math.max(...Array.from(w.subarray(0, 2 * H * H), Math.abs))).toBe(meta.mha_q_k_grad_max_abs);
      expect(Math.max(...Array.from(b.subarray(0, 2 * H), Math.abs))).toBe(0);
      expect(Math.max(...Array.from(w.subarray(2 * H * H), Math.abs))).toBeGreaterThan(0); // v rows do learn
    }
    tf.dispose([value, x, target]);
    disposeGradients(grads);
    model.dispose();
  });

  test('the length-1 shortcut equals the full attention: outputs and every gradient', async () => {
    const weights = await fixture('srm/weights.safetensors');
    const refGrads = await fixture('srm/grads_clipped.safetensors');
    const io = await fixture('srm/io.safetensors');
    const x = tf.tensor2d(io.x!.data, io.x!.shape as [number, number]);
    const target = tf.tensor2d(io.target!.data, io.target!.shape as [number, number]);
    const run = (fast: boolean) => {
      const model = SemanticRefinementModule.fromStateDict(weights, { numHeads: meta.constructor.num_heads }).setLengthOneFastPath(fast);
      const { value, grads } = valueAndGrads(model, () => hybridLoss(model.forward(x), target, meta.hybrid_loss_alpha));
      const clip = clipGradNorm(grads, meta.clip.max_norm);
      const host = Object.fromEntries(Object.entries(clip.grads).map(([k, g]) => [k, g.dataSync().slice()]));
      const out = model.forward(x).dataSync().slice();
      disposeGradients(clip.grads);
      value.dispose();
      model.dispose();
      return { out, host };
    };
    const fast = run(true);
    const full = run(false);
    expect(relError(fast.out, io.out!.data)).toBeLessThan(meta.tolerances['io.safetensors:out'].value);
    expect(relError(full.out, io.out!.data)).toBeLessThan(meta.tolerances['io.safetensors:out'].value);
    const tol = meta.tolerances['grads_clipped.safetensors:*'].value;
    for (const [k] of meta.params as Array<[string]>) {
      expect(relError(full.host[k]!, refGrads[k]!.data)).toBeLessThan(tol);
      expect(relError(fast.host[k]!, refGrads[k]!.data)).toBeLessThan(tol);
    }
    tf.dispose([x, target]);
  });
});

describe('SRM reference on the ONNX engine (training graph, host AdamW)', () => {
  let rows: VerifyRow[];

  beforeAll(async () => {
    await selectBackend('wasm');
    rows = await verifySrmReference(SRM_FIXTURE, { engine: 'onnx' });
    console.log(`onnx\n${formatVerifyTable(rows)}`);
  });

  test('every row passes within the reference tolerance', () => {
    expect(rows.filter((r) => !r.pass)).toEqual([]);
  });

  test('covers the output, the loss, every raw and clipped gradient and every optimizer case', () => {
    const keys = new Set(rows.map((r) => r.key));
    for (const key of ['io.safetensors:out', 'io.safetensors:loss', 'grads.safetensors:*', 'grads_clipped.safetensors:*', 'params_after_step.safetensors:*', 'params_after_scheduled_steps.safetensors:*', 'params_after_adamw_probe.safetensors:*', 'meta:scheduled_steps.per_step.loss', 'meta:adamw_probe.per_step.loss']) {
      expect(keys).toContain(key);
    }
  });
});
