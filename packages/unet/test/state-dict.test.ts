import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { manualSeed, readSafetensors, selectBackend, StateDictError, tf, type TensorDict } from '@srdiff/core';
import { CONFIG_METADATA_KEY, ConditionalUNet, inferUnetConfig, readStateDict } from '../src';
import { REFERENCE_DIR, nhwc, referenceMeta, referenceTensors } from './helpers';

const meta = referenceMeta();
const refConfig = meta.constructor as never as ConstructorParameters<typeof ConditionalUNet>[0];
let tmp: string;

beforeAll(async () => {
  await selectBackend('wasm');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'unet-sd-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function sameValues(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
}

function keysAndShapes(model: ConditionalUNet): Array<[string, number[]]> {
  return model.namedParameters().map(([k, p]) => [k, p.torchShape]);
}

describe('state-dict names, shapes and order are PyTorch\'s', () => {
  test('reference config: identical to model.state_dict() (meta.json params)', () => {
    const model = new ConditionalUNet(refConfig);
    expect(keysAndShapes(model)).toEqual(meta.params);
    model.dispose();
  });

  test('prompt path (use_degra_context): keys derived from the original code', () => {
    // `prompt` is ConditionalUNet's own parameter, so named_parameters() yields it first; then the
    // children in registration order: init_conv, time_mlp, text_mlp, prompt_mlp, downs, ...
    const td = 4 * refConfig.nf;
    const cd = meta.constructor.context_dim;
    const afterTime = meta.params.findIndex(([k]) => k === 'time_mlp.3.bias') + 1;
    const expected: Array<[string, number[]]> = [
      ['prompt', [1, td]],
      ...meta.params.slice(0, afterTime),
      ['text_mlp.0.weight', [td, cd]], ['text_mlp.0.bias', [td]], ['text_mlp.2.weight', [td, td]], ['text_mlp.2.bias', [td]],
      ['prompt_mlp.weight', [td, td]], ['prompt_mlp.bias', [td]],
      ...meta.params.slice(afterTime),
    ];
    const model = new ConditionalUNet({ ...refConfig, use_degra_context: true });
    expect(keysAndShapes(model)).toEqual(expected);
    model.dispose();
  });

  test('without image context every attention is a LinearAttention, the middle too', () => {
    const model = new ConditionalUNet({ ...refConfig, use_image_context: false });
    const keys = new Map(keysAndShapes(model).map(([k, s]) => [k, s]));
    expect([...keys.keys()].some((k) => k.includes('transformer_blocks'))).toBe(false);
    expect(keys.get('mid_attn.fn.fn.to_qkv.weight')).toEqual([384, 64, 1, 1]);
    expect(keys.get('downs.3.2.fn.fn.to_out.0.weight')).toEqual([32, 128, 1, 1]);
    expect(keys.get('mid_attn.fn.norm.g')).toEqual([1, 64, 1, 1]);
    model.dispose();
  });
});

describe('fromStateDict / save', () => {
  test('loads the reference weights from safetensors by name, with the given or the inferred config', async () => {
    const file = path.join(REFERENCE_DIR, 'weights.safetensors');
    const ref = await referenceTensors('weights.safetensors');
    expect(inferUnetConfig(ref)).toEqual(meta.constructor);
    for (const model of [await ConditionalUNet.fromStateDict(file, refConfig), await ConditionalUNet.fromStateDict(file)]) {
      expect(model.config).toEqual(meta.constructor);
      const sd = model.stateDict();
      expect(meta.params.filter(([k]) => !sameValues(sd[k]!.data, ref[k]!.data))).toEqual([]);
      model.dispose();
    }
  });

  test('save writes PyTorch-named safetensors with the config in the metadata; reload is exact', async () => {
    manualSeed(3);
    const config = { ...refConfig, use_degra_context: true };
    const model = new ConditionalUNet(config);
    const file = path.join(tmp, 'ours.safetensors');
    await model.save(file, { step: '12' });
    const raw = await readSafetensors(file);
    expect(Object.keys(raw.tensors)).toEqual(model.namedParameters().map(([k]) => k));
    expect(JSON.parse(raw.metadata[CONFIG_METADATA_KEY]!)).toEqual(model.config);
    expect(raw.metadata.step).toBe('12');
    expect(raw.metadata.format).toBe('pt');
    expect(fs.readdirSync(tmp).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const loaded = await ConditionalUNet.fromStateDict(file);
    expect(loaded.config).toEqual(model.config);
    const a = model.stateDict();
    const b = loaded.stateDict();
    expect(Object.keys(a).filter((k) => !sameValues(a[k]!.data, b[k]!.data))).toEqual([]);
    model.dispose();
    loaded.dispose();
  });

  test("the original's lastest_G.pth loads as it is (no Python): every tensor bit-exact, in torch.save's order, config inferred", async () => {
    const pth = path.join(REFERENCE_DIR, 'lastest_G.pth');
    const expected = JSON.parse(fs.readFileSync(path.join(REFERENCE_DIR, 'lastest_G.structure.json'), 'utf8')) as { sha256: string; structure: { dict: [string, { shape: number[] }][] } };
    expect(crypto.createHash('sha256').update(fs.readFileSync(pth)).digest('hex')).toBe(expected.sha256);
    const ref = await referenceTensors('weights.safetensors');
    const loaded = await readStateDict(pth);
    expect(Object.keys(loaded.tensors)).toEqual(expected.structure.dict.map(([k]) => k));
    expect(Object.entries(loaded.tensors).filter(([k, t]) => !sameValues(t.data, ref[k]!.data) || t.shape.join() !== ref[k]!.shape.join()).map(([k]) => k)).toEqual([]);
    const model = await ConditionalUNet.fromStateDict(pth);
    expect(model.config).toEqual(meta.constructor);
    const sd = model.stateDict();
    expect(meta.params.filter(([k]) => !sameValues(sd[k]!.data, ref[k]!.data))).toEqual([]);
    model.dispose();
  });

  test('a DataParallel `module.` prefix is stripped', async () => {
    const ref = await referenceTensors('weights.safetensors');
    const prefixed: TensorDict = Object.fromEntries(Object.entries(ref).map(([k, v]) => [`module.${k}`, v]));
    const model = await ConditionalUNet.fromStateDict(prefixed, refConfig);
    expect(sameValues(model.stateDict()['init_conv.weight']!.data, ref['init_conv.weight']!.data)).toBe(true);
    model.dispose();
  });
});

describe('a state dict of another config fails clearly', () => {
  async function loadError(weights: TensorDict, config: typeof refConfig): Promise<Error> {
    const before = tf.memory().numTensors;
    const err = await ConditionalUNet.fromStateDict(weights, config).then(() => undefined, (e: Error) => e);
    expect(tf.memory().numTensors).toBe(before); // the half-built model is released
    expect(err).toBeInstanceOf(StateDictError);
    return err!;
  }

  test('wrong nf: names the first mismatching keys and the config the weights look like', async () => {
    const other = new ConditionalUNet({ ...refConfig, nf: 16 });
    const err = await loadError(other.stateDict(), refConfig);
    other.dispose();
    expect(err.message).toMatch(/shape mismatch/);
    expect(err.message).toMatch(/init_conv\.weight: model expects \[8, 6, 7, 7\], file has \[16, 6, 7, 7\]/);
    expect(err.message).toMatch(/hint: the weights look like a ConditionalUNet built with \{ in_nc: 3, out_nc: 3, nf: 16,/);
    expect(err.message).toMatch(/this model differs in nf 8 → 16/);
  });

  test('wrong context_dim', async () => {
    const ref = await referenceTensors('weights.safetensors');
    const err = await loadError(ref, { ...refConfig, context_dim: 32 });
    expect(err.message).toMatch(/downs\.3\.2\.fn\.fn\.transformer_blocks\.0\.attn2\.to_k\.weight: model expects \[32, 32\], file has \[32, 16\]/);
    expect(err.message).toMatch(/differs in context_dim 32 → 16/);
  });

  test('wrong ch_mult (another depth): missing and unexpected keys, and the depth the weights have', async () => {
    const ref = await referenceTensors('weights.safetensors');
    const err = await loadError(ref, { ...refConfig, ch_mult: [1, 2, 4] });
    expect(err.message).toMatch(/unexpected keys \(\d+\):\n\s+downs\.2\.3\.bias\n\s+downs\.3\.0\.block1\.proj\.weight/);
    expect(err.message).toMatch(/missing keys \(\d+\):\n\s+ups\.0\.2\.fn\.fn\.to_qkv\.weight/);
    expect(err.message).toMatch(/differs in ch_mult \[1,2,4\] → \[1,2,4,8\]/);
  });

  test('not a UNet at all', async () => {
    const err = await loadError({ 'upper_path.0.weight': { shape: [2, 2], data: new Float32Array(4) } }, refConfig);
    expect(err.message).toMatch(/do not look like a ConditionalUNet state dict/);
    await expect(ConditionalUNet.fromStateDict({ 'x.weight': { shape: [1], data: new Float32Array(1) } })).rejects.toThrow(/no config given and none can be read off the weights/);
  });

  test('a failed load leaves the model unchanged', async () => {
    const model = new ConditionalUNet(refConfig);
    const before = model.stateDict()['final_conv.bias']!.data.slice();
    const ref = await referenceTensors('weights.safetensors');
    const broken = { ...ref, 'final_conv.bias': { shape: [4], data: new Float32Array(4) } };
    expect(() => model.loadStateDict(broken)).toThrow(/final_conv\.bias: model expects \[3\], file has \[4\]/);
    expect(sameValues(model.stateDict()['final_conv.bias']!.data, before)).toBe(true);
    model.dispose();
  });

  test('the reference weights run: one NHWC forward after loading', async () => {
    const model = await ConditionalUNet.fromStateDict(path.join(REFERENCE_DIR, 'weights.safetensors'));
    const io = await referenceTensors('io.safetensors');
    const out = tf.tidy(() => model.forward(nhwc(io.xt!), nhwc(io.cond!), [5, 73], { imageContext: tf.tensor2d(io.image_context!.data, [2, 16]) }));
    expect(out.shape).toEqual([2, 20, 24, 3]);
    out.dispose();
    model.dispose();
  });
});
