/**
 * `srdiff export --web DIR`: what the web app (apps/web) loads — the UNet (a ready ONNX graph, or
 * its weights for the page to build the graph from), the VLM's files, the SRM's graph and
 * manifest.json with the config, the SDE and every file's SHA-256. A folder that is neither new,
 * empty nor a previous web export is refused, and nothing half-written is left.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseSafetensors, selectBackend, writeSafetensors } from '@srdiff/core';
import { SemanticRefinementModule, saveSrmWeights } from '@srdiff/srm';
import { CONFIG_METADATA_KEY, ConditionalUNet, resolveUnetConfig, unetToOnnxBytes } from '@srdiff/unet';
import { WEB_MANIFEST_FORMAT, type WebManifest } from '../src/pipeline/web-export';
import { runInProcess as cli } from './helpers/cli-process';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'srdiff-export-web-'));
const config = resolveUnetConfig({ in_nc: 3, out_nc: 3, nf: 16, ch_mult: [1, 2], context_dim: 16, use_image_context: true });
const run = path.join(tmp, 'run');
const srmFile = path.join(tmp, 'srm.safetensors');
let unet: ConditionalUNet;

beforeAll(async () => {
  await selectBackend('cpu');
  unet = new ConditionalUNet(config);
  fs.mkdirSync(path.join(run, 'models'), { recursive: true });
  await writeSafetensors(path.join(run, 'models', 'last_EMA.safetensors'), unet.stateDict(), { format: 'pt', [CONFIG_METADATA_KEY]: JSON.stringify(config) });
  const options = { sde: { max_sigma: 30, T: 12, eps: 0.02, schedule: 'cosine', sample_T: 6, sampling_mode: 'sde' }, network_G: { setting: config }, datasets: { train: { context: 'RestoreCLS' } }, srm: { path: null }, vlm: { model: 'tiny' } };
  fs.writeFileSync(path.join(run, 'options.yml'), JSON.stringify(options));
  const srm = new SemanticRefinementModule({ inputDim: 16, hiddenDim: 32, numLayers: 1, numHeads: 4 });
  await saveSrmWeights(srmFile, srm);
  srm.dispose();
});
afterAll(() => {
  unet.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function readManifest(dir: string): WebManifest {
  return JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as WebManifest;
}

describe('srdiff export --web', () => {
  it('writes the UNet graph, the SRM graph, the CLIP files and a manifest of the run (SDE, config, hashes)', async () => {
    const out = path.join(tmp, 'web');
    const { code, output } = await cli(['export', '--web', out, '--model', run, '--srm', srmFile, '--offline']);
    expect({ code, output }).toMatchObject({ code: 0 });
    const m = readManifest(out);
    expect(m.format).toBe(WEB_MANIFEST_FORMAT);
    expect(m.unet).toEqual({ file: 'unet.onnx', format: 'onnx', config });
    // The run's SDE, its sample_T as the default steps, its sampling mode.
    expect(m.sde).toEqual({ max_sigma: 30, T: 12, eps: 0.02, schedule: 'cosine', sampling_mode: 'sde', steps: 6 });
    expect(m.vlm).toEqual({ family: 'clip', id: 'tiny', folder: 'vlm', width: 16 });
    expect(m.srm).toEqual({ file: 'srm.onnx' });
    expect(Object.keys(m.files).sort()).toEqual(['srm.onnx', 'unet.onnx', 'vlm/config.json', 'vlm/onnx/vision_model.onnx', 'vlm/preprocessor_config.json']);
    for (const [name, f] of Object.entries(m.files)) {
      const bytes = fs.readFileSync(path.join(out, name));
      expect({ name, bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') }).toEqual({ name, ...f });
    }
    // The same graph `srdiff export` writes for these weights.
    expect(Buffer.compare(fs.readFileSync(path.join(out, 'unet.onnx')), Buffer.from(unetToOnnxBytes(unet.stateDict(), config)))).toBe(0);
    expect(output).toMatch(/5 files.*unet onnx, clip tiny, SRM, sde in 6 steps/);
  });

  it('--unet-format safetensors writes the weights for the page to build the graph; a previous export is replaced whole', async () => {
    const out = path.join(tmp, 'web2');
    expect((await cli(['export', '--web', out, '--model', run, '--no-srm', '--offline'])).code).toBe(0);
    expect(fs.existsSync(path.join(out, 'unet.onnx'))).toBe(true);
    const { code } = await cli(['export', '--web', out, '--model', run, '--no-srm', '--unet-format', 'safetensors', '--steps', '3', '--description', 'my model', '--offline']);
    expect(code).toBe(0);
    const m = readManifest(out);
    expect(m).toMatchObject({ description: 'my model', unet: { file: 'unet.safetensors', format: 'safetensors' }, srm: null, sde: { steps: 3 } });
    expect(fs.existsSync(path.join(out, 'unet.onnx'))).toBe(false);
    const weights = parseSafetensors(fs.readFileSync(path.join(out, 'unet.safetensors'))).tensors;
    const want = unet.stateDict();
    expect(Object.keys(weights).sort()).toEqual(Object.keys(want).sort());
    for (const [k, t] of Object.entries(want)) expect(Array.from(weights[k]!.data)).toEqual(Array.from(t.data));
    expect(fs.readdirSync(tmp).filter((f) => /\.(partial|old)-/.test(f))).toEqual([]);
  });

  it('refuses a folder that holds other files, and a RestoreCLS model without --srm or --no-srm, writing nothing', async () => {
    const other = path.join(tmp, 'other');
    fs.mkdirSync(other);
    fs.writeFileSync(path.join(other, 'notes.txt'), 'mine');
    const refused = await cli(['export', '--web', other, '--model', run, '--no-srm', '--offline']);
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(/holds other files \(notes\.txt\); give a new folder or a previous srdiff export --web/);
    expect(fs.readdirSync(other)).toEqual(['notes.txt']);
    const fresh = path.join(tmp, 'fresh');
    const noSrm = await cli(['export', '--web', fresh, '--model', run, '--offline']);
    expect(noSrm.code).toBe(1);
    expect(noSrm.output).toMatch(/trained on SRM-refined embeddings \(RestoreCLS\): pass --srm/);
    expect(fs.existsSync(fresh)).toBe(false);
    expect(fs.readdirSync(tmp).filter((f) => /\.(partial|old)-/.test(f))).toEqual([]);
  });
});
