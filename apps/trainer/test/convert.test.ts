/**
 * The original's PyTorch files without Python: `srdiff convert`, `--model` / `pretrain_model_G`
 * given a `.pth`, and `.pt` embedding folders (fixtures: the shared `pth` reference set, written by
 * torch.save 1.13).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readEmbeddingTensor, readSafetensors, readStateDictFile } from '@srdiff/core';
import { CONVERTED_FROM_KEY } from '../src/commands/convert';
import { prepareEmbeddings } from '../src/pipeline/dataset';
import { resolveUnetModel } from '../src/pipeline/resolve-model';
import { runInProcess as cli } from './helpers/cli-process';

const PTH = path.join(__dirname, 'fixtures', 'pth');
let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'srdiff-convert-'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

function sameBits(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

describe('srdiff convert', () => {
  test("an SRM epoch checkpoint → its model_state_dict as safetensors, the same weights as best_model.pth's", async () => {
    const out = path.join(tmp, 'nested', 'srm.safetensors');
    const run = await cli(['convert', path.join(PTH, 'srm_epoch_checkpoint.pth'), out]);
    expect(run.code).toBe(0);
    expect(run.output).toContain(`srm_epoch_checkpoint.pth (torch-zip, its "model_state_dict") → ${out}: 28 tensors`);
    const written = await readSafetensors(out);
    expect(written.metadata[CONVERTED_FROM_KEY]).toBe('srm_epoch_checkpoint.pth');
    const best = await readStateDictFile(path.join(PTH, 'srm_best_model.pth'));
    expect(Object.keys(written.tensors)).toEqual(Object.keys(best.tensors));
    for (const [k, t] of Object.entries(best.tensors)) expect([k, sameBits(written.tensors[k]!.data, t.data)]).toEqual([k, true]);
    expect(fs.readdirSync(path.dirname(out))).toEqual(['srm.safetensors']); // no temporary left
  });

  test('a DataParallel state dict loses its module. prefix', async () => {
    const out = path.join(tmp, 'ddp.safetensors');
    const run = await cli(['convert', path.join(PTH, 'srm_ddp_module_prefix.pth'), out]);
    expect(run.output).toContain('"module." stripped');
    expect(Object.keys((await readSafetensors(out)).tensors)[0]).toBe('upper_path.0.weight');
  });

  test('refuses to overwrite its input, an OUT that is not .safetensors, and a file that is not weights; writes nothing then', async () => {
    const input = path.join(tmp, 'w.safetensors');
    fs.copyFileSync(path.join(PTH, 'srm_best_model.pth'), path.join(tmp, 'best.pth'));
    expect((await cli(['convert', path.join(tmp, 'best.pth'), input])).code).toBe(0);
    const before = fs.readFileSync(input);
    let run = await cli(['convert', input, path.join(tmp, '.', 'w.safetensors')]);
    expect(run.code).not.toBe(0);
    expect(run.output).toContain('convert never overwrites its input');
    fs.linkSync(input, path.join(tmp, 'link.safetensors'));
    run = await cli(['convert', input, path.join(tmp, 'link.safetensors')]);
    expect(run.output).toContain('convert never overwrites its input');
    expect(fs.readFileSync(input).equals(before)).toBe(true);
    run = await cli(['convert', path.join(tmp, 'best.pth'), path.join(tmp, 'out.pth')]);
    expect(run.output).toContain('must end in .safetensors');
    fs.writeFileSync(path.join(tmp, 'junk.pth'), 'not weights at all');
    run = await cli(['convert', path.join(tmp, 'junk.pth'), path.join(tmp, 'junk.safetensors')]);
    expect(run.code).not.toBe(0);
    expect(run.output).toContain('junk.pth: not a weights file');
    expect(fs.existsSync(path.join(tmp, 'junk.safetensors'))).toBe(false);
  });
});

describe('--model / path.pretrain_model_G given a .pth', () => {
  test("the original's lastest_G.pth resolves like its converted safetensors: same config, same weights", async () => {
    const pth = path.join(PTH, 'unet_lastest_G.pth');
    const direct = await resolveUnetModel(pth);
    expect(direct.source).toBe(pth);
    expect(direct.config).toMatchObject({ nf: 8, ch_mult: [1, 2, 4, 8], context_dim: 16, use_image_context: true });
    const converted = path.join(tmp, 'unet.safetensors');
    expect((await cli(['convert', pth, converted])).code).toBe(0);
    const viaFile = await resolveUnetModel(converted);
    expect(viaFile.config).toEqual(direct.config);
    expect(Object.keys(viaFile.weights)).toEqual(Object.keys(direct.weights));
    for (const [k, t] of Object.entries(direct.weights)) expect([k, sameBits(viaFile.weights[k]!.data, t.data)]).toEqual([k, true]);
  });
});

describe("the original's .pt embedding folders", () => {
  test('LQCLS/ of .pt files counts as complete for training on LQCLS', async () => {
    const task = path.join(tmp, 'train', 'hazy');
    for (const sub of ['LQ', 'GT', 'LQCLS']) fs.mkdirSync(path.join(task, sub), { recursive: true });
    fs.writeFileSync(path.join(task, 'LQ', 'a.png'), '');
    fs.copyFileSync(path.join(PTH, 'embedding_view.pt'), path.join(task, 'LQCLS', 'a.pt'));
    await expect(prepareEmbeddings({ root: tmp, phase: 'train', tasks: ['hazy'] }, 'LQCLS', null, () => undefined)).resolves.toBe('LQCLS');
  });
});

describe('--srm given the original best_model.pth, LQCLS of .pt files', () => {
  test('srdiff refine --srm best_model.pth writes RestoreCLS/*.npy: the SRM applied to the .pt embeddings', async () => {
    const { loadSrm, refine } = await import('@srdiff/srm');
    const task = path.join(tmp, 'train', 'hazy');
    for (const sub of ['LQ', 'GT', 'LQCLS']) fs.mkdirSync(path.join(task, sub), { recursive: true });
    fs.copyFileSync(path.join(PTH, 'embedding_view.pt'), path.join(task, 'LQCLS', 'a.pt'));
    const best = path.join(PTH, 'srm_best_model.pth');
    const run = await cli(['refine', '--data', tmp, '--srm', best, '--backend', 'cpu']);
    expect([run.code, run.output]).toEqual([0, expect.any(String)]);
    const written = await readEmbeddingTensor(path.join(task, 'RestoreCLS', 'a.npy'));
    const srm = await loadSrm(best);
    const want = refine(srm, [(await readEmbeddingTensor(path.join(PTH, 'embedding_view.pt'))).data])[0]!;
    srm.dispose();
    expect(written.shape).toEqual([1, 16]);
    expect(Array.from(written.data)).toEqual(Array.from(want));
  });
});

describe('path.pretrain_model_G given a .pth, RestoreCLS of .pt files', () => {
  test("training starts from the original's lastest_G.pth, conditioned on .pt embeddings", async () => {
    const { tinyDataset, tinyOptions } = await import('./helpers/tiny-run');
    const { trainDiffusion } = await import('../src/training/train-diffusion');
    const data = await tinyDataset(path.join(tmp, 'data'));
    const restore = path.join(data, 'train', 'rainy', 'RestoreCLS');
    fs.mkdirSync(restore, { recursive: true });
    for (const f of fs.readdirSync(path.join(data, 'train', 'rainy', 'LQ'))) fs.copyFileSync(path.join(PTH, 'embedding_view.pt'), path.join(restore, f.replace(/\.png$/, '.pt')));
    const pth = path.join(PTH, 'unet_lastest_G.pth');
    const run = path.join(tmp, 'run');
    const logs: string[] = [];
    const options = tinyOptions(data, run, ['train.niter=1', 'train.lr_G=1e-12'], {
      network_G: { setting: { nf: 8, ch_mult: [1, 2, 4, 8], context_dim: 16, use_image_context: true } },
      path: { experiments_root: run, pretrain_model_G: pth },
    });
    await trainDiffusion({ options, onEvent: (e) => e.type === 'log' && logs.push(e.message) });
    expect(logs.join('\n')).toContain(`loaded ${pth}`);
    const start = (await readStateDictFile(pth)).tensors;
    const after = (await readSafetensors(path.join(run, 'models', 'last_G.safetensors'))).tensors;
    let maxDiff = 0;
    for (const [k, t] of Object.entries(start)) for (let i = 0; i < t.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(after[k]!.data[i]! - t.data[i]!));
    expect(maxDiff).toBeLessThan(1e-6); // one step at lr 1e-12 from the .pth weights
  }, 120_000);
});
