import fs from 'node:fs';
import path from 'node:path';
import { selectBackend, tf, warmupCosineSchedule } from '@srdiff/core';
import {
  CHECKPOINT_LAST_FILE,
  SRM_WEIGHTS_FILE,
  SrmTrainingAbortedError,
  createEmbeddingPairs,
  evaluateSrm,
  loadSrm,
  readSrmCheckpoint,
  trainSrm,
  type SrmTrainingEvent,
  type TrainSrmOptions,
} from '../src';
import { relError, syntheticPairs, tempDir, writeEmbeddings } from './helpers';

const config = { hiddenDim: 48, numLayers: 2, numHeads: 4 };

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('learning a synthetic refinement', () => {
  test('validation cosine similarity rises clearly above the LQ-vs-GT baseline', async () => {
    const dim = 24;
    const { lq, gt } = syntheticPairs(640, dim, { spread: 1.5, noise: 0.05 });
    const data = createEmbeddingPairs(lq, gt);
    const events: SrmTrainingEvent[] = [];
    const tensorsBefore = tf.memory().numTensors;
    const result = await trainSrm({
      data,
      config,
      epochs: 12,
      batchSize: 64,
      lr: 5e-3,
      warmupSteps: 10,
      minLr: 1e-5,
      valFraction: 0.1,
      seed: 1,
      onProgress: (e) => events.push(e),
    });
    const first = result.history[0]!.val!;
    const last = result.finalValidation!;
    // The baseline is a property of the data, identical every epoch.
    expect(result.history.every((h) => h.val!.cosineLq === first.cosineLq)).toBe(true);
    console.log(`baseline cos(LQ, GT) ${last.cosineLq.toFixed(4)} → refined ${last.cosineRefined.toFixed(4)} (epoch 1: ${first.cosineRefined.toFixed(4)}); L1 ${last.l1Lq.toFixed(4)} → ${last.l1Refined.toFixed(4)}`);
    expect(last.cosineLq).toBeLessThan(0.7);
    expect(last.cosineRefined).toBeGreaterThan(last.cosineLq + 0.2);
    expect(last.cosineRefined).toBeGreaterThan(0.9);
    expect(last.l1Refined).toBeLessThan(last.l1Lq / 2);
    expect(result.history[result.history.length - 1]!.trainLoss).toBeLessThan(result.history[0]!.trainLoss / 2);

    // Events: start, one per step with the scheduled lr (0 on the very first step), one per epoch.
    const steps = events.filter((e) => e.type === 'step') as Extract<SrmTrainingEvent, { type: 'step' }>[];
    const start = events[0] as Extract<SrmTrainingEvent, { type: 'start' }>;
    expect(start).toMatchObject({ type: 'start', trainCount: 576, valCount: 64, stepsPerEpoch: 9, totalSteps: 108, startEpoch: 0 });
    expect(steps).toHaveLength(108);
    const schedule = warmupCosineSchedule({ baseLr: 5e-3, warmupSteps: 10, totalSteps: 108, minLr: 1e-5 });
    steps.forEach((s, k) => expect(s.lr).toBe(schedule(k)));
    expect(steps[0]!.lr).toBe(0);
    expect(events.filter((e) => e.type === 'epoch')).toHaveLength(12);

    // Best weights are those of the best validation epoch.
    expect(result.best.metric).toBe('val_cosine');
    const bestRecord = result.history.find((h) => h.epoch === result.best.epoch)!;
    expect(result.best.value).toBe(bestRecord.val!.cosineRefined);
    expect(Math.max(...result.history.map((h) => h.val!.cosineRefined))).toBe(result.best.value);

    result.model.dispose();
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  test('without validation the best epoch is the lowest training loss, as the original', async () => {
    const { lq, gt } = syntheticPairs(64, 8);
    const result = await trainSrm({ data: createEmbeddingPairs(lq, gt), config: { hiddenDim: 16, numLayers: 1, numHeads: 2 }, epochs: 3, batchSize: 32, lr: 1e-3, warmupSteps: 1, valFraction: 0 });
    expect(result.best.metric).toBe('train_loss');
    expect(result.best.value).toBe(Math.min(...result.history.map((h) => h.trainLoss)));
    expect(result.finalValidation).toBeUndefined();
    result.model.dispose();
  });
});

describe('checkpoints and resume', () => {
  const dim = 12;
  function dataset() {
    const root = tempDir();
    const { lq, gt } = syntheticPairs(100, dim, { seed: 2 });
    const names = lq.map((_, i) => `img${String(i).padStart(3, '0')}`);
    writeEmbeddings(path.join(root, 'LQCLS'), Object.fromEntries(names.map((n, i) => [n, lq[i]!])));
    writeEmbeddings(path.join(root, 'GTCLS'), Object.fromEntries(names.map((n, i) => [n, gt[i]!])), true);
    return { lqDir: path.join(root, 'LQCLS'), gtDir: path.join(root, 'GTCLS') };
  }
  const folders = dataset();
  const base = (outDir: string): TrainSrmOptions => ({
    data: folders,
    config: { hiddenDim: 16, numLayers: 1, numHeads: 2 },
    outDir,
    epochs: 4,
    batchSize: 16,
    lr: 2e-3,
    warmupSteps: 5,
    valFraction: 0.2,
    seed: 7,
  });

  test('the onnx and tfjs engines train alike: the same step losses and final weights within float tolerance', async () => {
    const runs: Record<string, { losses: number[]; result: Awaited<ReturnType<typeof trainSrm>> }> = {};
    for (const engine of ['onnx', 'tfjs'] as const) {
      const losses: number[] = [];
      const events: SrmTrainingEvent[] = [];
      const result = await trainSrm({ ...base(tempDir()), engine, onProgress: (e) => { events.push(e); if (e.type === 'step') losses.push(e.loss); } });
      expect(events[0]).toMatchObject({ type: 'start', engine });
      runs[engine] = { losses, result };
    }
    const { onnx, tfjs } = runs as Record<'onnx' | 'tfjs', (typeof runs)[string]>;
    expect(onnx.losses).toHaveLength(20);
    onnx.losses.forEach((l, k) => expect(Math.abs(l - tfjs.losses[k]!) / tfjs.losses[k]!).toBeLessThan(1e-4));
    const a = onnx.result.model.stateDict();
    const b = tfjs.result.model.stateDict();
    for (const k of Object.keys(b)) expect(relError(a[k]!.data, b[k]!.data)).toBeLessThan(1e-4);
    onnx.result.model.dispose();
    tfjs.result.model.dispose();
  });

  test('a run checkpointed on the onnx engine resumes on tfjs (and back) where an uninterrupted run ends', async () => {
    const straight = await trainSrm({ ...base(tempDir()), engine: 'onnx' });
    const dir = tempDir();
    const controller = new AbortController();
    await trainSrm({ ...base(dir), engine: 'onnx', signal: controller.signal, onProgress: (e) => e.type === 'step' && e.step === 7 && controller.abort() }).catch(() => undefined);
    const half = new AbortController();
    await trainSrm({ data: folders, outDir: dir, resume: true, engine: 'tfjs', signal: half.signal, onProgress: (e) => e.type === 'step' && e.step === 12 && half.abort() }).catch(() => undefined);
    const resumed = await trainSrm({ data: folders, outDir: dir, resume: true, engine: 'onnx' });
    expect(resumed.steps).toBe(20);
    expect(resumed.history.map((h) => h.epoch)).toEqual([1, 2, 3, 4]);
    resumed.history.forEach((h, i) => expect(Math.abs(h.trainLoss - straight.history[i]!.trainLoss) / straight.history[i]!.trainLoss).toBeLessThan(1e-4));
    const a = straight.model.stateDict();
    const b = resumed.model.stateDict();
    for (const k of Object.keys(a)) expect(relError(b[k]!.data, a[k]!.data)).toBeLessThan(1e-4);
    straight.model.dispose();
    resumed.model.dispose();
  });

  test('an interrupted run resumes from its last checkpoint and ends exactly where an uninterrupted one does', async () => {
    const straightDir = tempDir();
    const straightSteps: Array<{ step: number; lr: number; loss: number }> = [];
    const straight = await trainSrm({ ...base(straightDir), onProgress: (e) => e.type === 'step' && straightSteps.push(e) });

    // Abort in the middle of epoch 3: the partial epoch is discarded, epoch 2's checkpoint is the resume point.
    const dir = tempDir();
    const controller = new AbortController();
    const abortAt = 2 * 5 + 2; // 80 training pairs / 16 = 5 steps per epoch
    let caught: unknown;
    await trainSrm({ ...base(dir), signal: controller.signal, onProgress: (e) => e.type === 'step' && e.step === abortAt && controller.abort() }).catch((err) => (caught = err));
    expect(caught).toBeInstanceOf(SrmTrainingAbortedError);
    expect(caught).toMatchObject({ epochsCompleted: 2, step: abortAt, checkpoint: path.join(dir, CHECKPOINT_LAST_FILE) });
    const saved = await readSrmCheckpoint(path.join(dir, CHECKPOINT_LAST_FILE));
    expect(saved.meta).toMatchObject({ epoch: 2, step: 10, stepsPerEpoch: 5, trainCount: 80, valCount: 20 });
    expect(saved.meta.schedule).toEqual({ baseLr: 2e-3, warmupSteps: 5, totalSteps: 20, minLr: 5e-7 });
    expect(saved.optimizer.step).toBe(10);

    // Resume with only the data and outDir: the settings come from the checkpoint.
    const resumedSteps: Array<{ step: number; lr: number; loss: number }> = [];
    const events: SrmTrainingEvent[] = [];
    const resumed = await trainSrm({
      data: folders,
      outDir: dir,
      resume: true,
      onProgress: (e) => {
        events.push(e);
        if (e.type === 'step') resumedSteps.push(e);
      },
    });
    expect(events[0]).toMatchObject({ type: 'start', startEpoch: 2, step: 10, resumedFrom: path.join(dir, CHECKPOINT_LAST_FILE) });
    // Same schedule position and same data order: every remaining step repeats the uninterrupted run.
    expect(resumedSteps).toEqual(straightSteps.slice(10));
    expect(resumed.steps).toBe(20);
    expect(resumed.history).toHaveLength(4);
    expect(resumed.history.map((h) => h.trainLoss)).toEqual(straight.history.map((h) => h.trainLoss));
    const a = straight.model.stateDict();
    const b = resumed.model.stateDict();
    for (const k of Object.keys(a)) expect(b[k]!.data).toEqual(a[k]!.data);
    expect(resumed.best).toEqual(straight.best);
    for (const k of Object.keys(a)) expect(resumed.bestWeights[k]!.data).toEqual(straight.bestWeights[k]!.data);
    straight.model.dispose();
    resumed.model.dispose();
  });

  test('srm.safetensors holds the best weights and loads; checkpoints are refused with other settings or data', async () => {
    const dir = tempDir();
    const result = await trainSrm(base(dir));
    const model = await loadSrm(path.join(dir, SRM_WEIGHTS_FILE));
    expect(model.config).toEqual({ inputDim: dim, hiddenDim: 16, numLayers: 1, numHeads: 2 });
    const sd = model.stateDict();
    for (const k of Object.keys(sd)) expect(sd[k]!.data).toEqual(result.bestWeights[k]!.data);
    const fromCheckpoint = await loadSrm(path.join(dir, 'checkpoint-best.safetensors'));
    expect(fromCheckpoint.stateDict()['upper_path.0.weight']!.data).toEqual(sd['upper_path.0.weight']!.data);
    // The saved best evaluates to the recorded best metric.
    const val = (await readSrmCheckpoint(path.join(dir, 'checkpoint-best.safetensors'))).meta;
    expect(val.best.value).toBe(result.best.value);

    await expect(trainSrm(base(dir))).rejects.toThrow(/checkpoint-last\.safetensors exists; pass resume: true/);
    await expect(trainSrm({ ...base(dir), resume: true, batchSize: 8 })).rejects.toThrow(/cannot resume with different settings \(batchSize: checkpoint 16, given 8\)/);
    const other = createEmbeddingPairs(...(Object.values(syntheticPairs(100, dim, { seed: 3 })) as [Float32Array[], Float32Array[]]));
    await expect(trainSrm({ ...base(dir), data: other, resume: true })).rejects.toThrow(/resume needs the same data/);
    // Training further: more epochs continue the same run.
    const more = await trainSrm({ ...base(dir), resume: true, epochs: 5 });
    expect(more.history).toHaveLength(5);
    expect(more.steps).toBe(25);
    tf.dispose([result.model, model, fromCheckpoint, more.model].flatMap((m) => Object.values(m.trainableVariables())));
  });

  test('a damaged checkpoint is detected, not trained on', async () => {
    const dir = tempDir();
    (await trainSrm({ ...base(dir), epochs: 1 })).model.dispose();
    const file = path.join(dir, CHECKPOINT_LAST_FILE);
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 3] ^= 0xff;
    fs.writeFileSync(file, bytes);
    await expect(trainSrm({ ...base(dir), resume: true })).rejects.toThrow(/checksum mismatch/);
  });

  test('data of the wrong width for the given model is refused', async () => {
    const { lq, gt } = syntheticPairs(20, 10);
    await expect(trainSrm({ data: createEmbeddingPairs(lq, gt), config: { inputDim: 12, hiddenDim: 16, numLayers: 1, numHeads: 2 }, epochs: 1 })).rejects.toThrow(
      /embeddings are 10 wide but the SRM's inputDim is 12/,
    );
  });
});

describe('evaluateSrm', () => {
  test('results do not depend on the batch size', async () => {
    const { lq, gt } = syntheticPairs(37, 8);
    const pairs = createEmbeddingPairs(lq, gt);
    const { model } = await trainSrm({ data: pairs, config: { hiddenDim: 16, numLayers: 1, numHeads: 2 }, epochs: 1, batchSize: 37, valFraction: 0 });
    const a = evaluateSrm(model, pairs, { batchSize: 37 });
    const b = evaluateSrm(model, pairs, { batchSize: 5 });
    expect(relError([a.cosineRefined, a.cosineLq, a.l1Refined, a.loss], [b.cosineRefined, b.cosineLq, b.l1Refined, b.loss])).toBeLessThan(1e-6);
    expect(a.count).toBe(37);
    model.dispose();
  });
});

describe('srmTrainStep', () => {
  test('micro-batches accumulate to the same step as the whole batch', async () => {
    const { AdamW, manualSeed } = await import('@srdiff/core');
    const { SemanticRefinementModule, srmTrainStep } = await import('../src');
    const { lq, gt } = syntheticPairs(50, 8, { seed: 4 });
    const x = tf.tensor2d(lq.flatMap((r) => Array.from(r)), [50, 8]);
    const y = tf.tensor2d(gt.flatMap((r) => Array.from(r)), [50, 8]);
    const run = (micro?: number) => {
      manualSeed(3);
      const model = new SemanticRefinementModule({ inputDim: 8, hiddenDim: 16, numLayers: 1, numHeads: 2 });
      const opt = new AdamW(model.namedParameters(), { lr: 1e-2, weightDecay: 0.1 });
      const r = srmTrainStep(model, opt, x, y, { lr: 1e-2, alpha: 0.7, maxGradNorm: 0.05, microBatchSize: micro });
      const sd = model.stateDict();
      opt.dispose();
      model.dispose();
      return { r, sd };
    };
    const whole = run();
    const split = run(16); // 16 + 16 + 16 + 2 rows
    expect(Math.abs(split.r.loss - whole.r.loss) / whole.r.loss).toBeLessThan(1e-6);
    expect(Math.abs(split.r.gradNorm - whole.r.gradNorm) / whole.r.gradNorm).toBeLessThan(1e-5);
    expect(whole.r.clipScale).toBeLessThan(1);
    for (const k of Object.keys(whole.sd)) expect(relError(split.sd[k]!.data, whole.sd[k]!.data)).toBeLessThan(1e-5);
    tf.dispose([x, y]);
  });
});
