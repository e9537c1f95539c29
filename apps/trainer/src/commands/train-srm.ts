import path from 'node:path';
import { selectBackend } from '@srdiff/core';
import { trainSrm, type SrmTrainingEvent } from '@srdiff/srm';
import type { Command } from '../cli/command';
import { assertOneEmbeddingOrigin } from '@srdiff/vlm';
import { listTaskFolders } from '../pipeline/dataset-folders';
import { readPhasePairs } from '../pipeline/srm-stage';
import { writeSrmEmbeddingOrigin } from '../pipeline/vlm';
import { Progress } from '../ui/progress';
import { parseProviders } from './common';

export const trainSrmCommand: Command = {
  spec: {
    name: 'train-srm',
    summary: 'stage one: train the Semantic Refinement Module on (LQCLS, GTCLS) embedding pairs',
    usage: 'srdiff train-srm --data <datasets root> --out <run dir> [--epochs N] [--batch-size N] ...',
    options: {
      data: { type: 'string', valueName: 'DIR', description: 'dataset root with <phase>/<task>/{LQCLS,GTCLS} (from srdiff extract)', required: true },
      tasks: { type: 'string[]', valueName: 'LIST', description: 'task folders (default: all)' },
      out: { type: 'string', valueName: 'DIR', description: 'run folder for checkpoints and srm.safetensors', default: 'runs/srm' },
      epochs: { type: 'number', integer: true, min: 1, description: 'passes over the training pairs (the original: 10000)', default: 1000 },
      'batch-size': { type: 'number', integer: true, min: 1, description: 'pairs per optimizer step (the original: 8192)', default: 8192 },
      lr: { type: 'number', greaterThan: 0, description: 'peak learning rate', default: 3e-4 },
      'warmup-steps': { type: 'number', integer: true, min: 0, description: 'linear warm-up steps', default: 500 },
      'min-lr': { type: 'number', min: 0, description: 'final learning rate of the cosine decay', default: 5e-7 },
      'hidden-dim': { type: 'number', integer: true, min: 1, description: 'hidden width (the original: 1024)', default: 1024 },
      'num-layers': { type: 'number', integer: true, min: 1, description: 'SR encoder layers (the original: 4)', default: 4 },
      'num-heads': { type: 'number', integer: true, min: 1, description: 'attention heads (the original: 8)', default: 8 },
      'val-fraction': { type: 'number', min: 0, max: 1, description: 'held-out fraction when the dataset has no val/ phase', default: 0.1 },
      seed: { type: 'number', integer: true, description: 'seed of initialisation, data order and split', default: 0 },
      resume: { type: 'boolean', description: "continue from the run folder's last checkpoint", default: false },
      overwrite: { type: 'boolean', description: 'start afresh in a run folder that has a checkpoint', default: false },
      backend: { type: 'string', description: 'TensorFlow.js backend (engine tfjs, and evaluation)', choices: ['auto', 'tensorflow', 'wasm', 'cpu'], default: 'auto' },
      engine: { type: 'string', description: 'what runs the training steps: onnx (one ONNX Runtime graph per step), tfjs, or auto (onnx when onnxruntime-node loads); a run resumes on either', choices: ['auto', 'onnx', 'tfjs'], default: 'auto' },
      providers: { type: 'string', valueName: 'LIST', description: 'ONNX Runtime execution providers in order, e.g. cuda,cpu (engine onnx)' },
    },
    examples: ['srdiff train-srm --data datasets --out runs/srm --epochs 2000', 'srdiff train-srm --data datasets --out runs/srm --engine tfjs --resume'],
  },
  async run({ options, log, out, signal }) {
    const sel = await selectBackend(options.backend as 'auto');
    log(`train-srm: tfjs backend ${sel.description}`);
    const root = options.data as string;
    const tasks = options.tasks as string[] | undefined;
    const data = (await readPhasePairs(root, 'train', tasks))!;
    const valData = await readPhasePairs(root, 'val', tasks);
    log(`train-srm: ${data.count} training pairs (${data.dim} wide)${valData ? `, ${valData.count} validation pairs` : ''}`);
    // Every LQCLS/GTCLS folder must come from one VLM (manifests); the run folder records which.
    const embeddingFolders = ['train', ...(valData ? ['val'] : [])].flatMap((phase) => listTaskFolders(root, [phase], tasks).flatMap((f) => [path.join(f.dir, 'LQCLS'), path.join(f.dir, 'GTCLS')]));
    const origin = await assertOneEmbeddingOrigin(embeddingFolders);
    if (origin) log(`train-srm: embeddings of ${origin.family ?? 'the VLM'} '${origin.model}'`);
    let progress: Progress | undefined;
    const onProgress = (e: SrmTrainingEvent) => {
      if (e.type === 'start') {
        log(`train-srm: ${e.engine} engine`);
        progress = new Progress({ label: 'train-srm', total: e.totalSteps, start: e.step, unit: 'step' });
        if (e.resumedFrom) progress.log(`resumed from ${e.resumedFrom} at step ${e.step}`);
      } else if (e.type === 'step') {
        progress?.update(e.step, { loss: e.loss, lr: e.lr });
      } else if (e.type === 'epoch' && e.record.val) {
        progress?.update(e.record.step, { 'val cos': e.record.val.cosineRefined, 'LQ cos': e.record.val.cosineLq });
      }
    };
    const result = await trainSrm({
      data,
      valData,
      outDir: options.out as string,
      epochs: options.epochs as number,
      batchSize: options['batch-size'] as number,
      lr: options.lr as number,
      warmupSteps: options['warmup-steps'] as number,
      minLr: options['min-lr'] as number,
      valFraction: valData ? 0 : (options['val-fraction'] as number),
      seed: options.seed as number,
      config: { hiddenDim: options['hidden-dim'] as number, numLayers: options['num-layers'] as number, numHeads: options['num-heads'] as number },
      resume: options.resume ? true : undefined,
      overwrite: options.overwrite as boolean,
      onProgress,
      signal,
      engine: options.engine as 'auto',
      session: options.providers ? { executionProviders: parseProviders(options.providers as string) as never } : undefined,
    });
    progress?.finish();
    if (origin) await writeSrmEmbeddingOrigin(options.out as string, origin);
    out(`train-srm: ${result.steps} steps; best ${result.best.metric} ${result.best.value?.toFixed(5) ?? '-'} at epoch ${result.best.epoch}`);
    const v = result.finalValidation;
    if (v) out(`train-srm: validation cosine to GT: refined ${v.cosineRefined.toFixed(4)} vs raw LQ ${v.cosineLq.toFixed(4)} (${v.count} pairs)`);
    out(`train-srm: weights → ${result.files?.weights ?? path.join(options.out as string, 'srm.safetensors')}`);
    result.model.dispose();
    return 0;
  },
};
