import { pickedFolder, subFolder } from '../src/model/file-source';
import { MANIFEST_FORMAT, parseManifest } from '../src/model/manifest';

// What the page accepts as a model: a manifest written by `srdiff export --web`, checked key by key
// with messages that name the key, and the folder it sits in among the files the user picked.
const valid = {
  format: MANIFEST_FORMAT,
  description: 'a model',
  source: 'runs/x',
  unet: { file: 'unet.onnx', format: 'onnx', config: { in_nc: 3, out_nc: 3, nf: 16, ch_mult: [1, 2], context_dim: 16, use_image_context: true } },
  sde: { max_sigma: 10, T: 20, eps: 0.05, schedule: 'cosine', sampling_mode: 'posterior', steps: 20 },
  vlm: { family: 'clip', id: 'tiny', folder: 'vlm', width: 16 },
  srm: null,
  files: { 'unet.onnx': { bytes: 1, sha256: 'ab' } },
};
const withChange = (path: string[], value: unknown) => {
  const copy = JSON.parse(JSON.stringify(valid));
  let at = copy;
  for (const key of path.slice(0, -1)) at = at[key];
  if (value === undefined) delete at[path[path.length - 1]!];
  else at[path[path.length - 1]!] = value;
  return JSON.stringify(copy);
};

describe('parseManifest', () => {
  it('accepts what srdiff export --web writes', () => {
    expect(parseManifest(JSON.stringify(valid), 'm.json')).toEqual(valid);
  });

  it.each([
    [['format'], 'srdiff-web/0', /m\.json: "format" must be "srdiff-web\/1"/],
    [['unet', 'format'], 'pt', /"unet\.format" must be "onnx" or "safetensors", got "pt"/],
    [['sde', 'T'], 0, /"sde\.T" must be a positive integer, got 0/],
    [['sde', 'eps'], 1.5, /"sde\.eps" must be a number in \(0, 1\)/],
    [['sde', 'sampling_mode'], 'ddim', /"sde\.sampling_mode" must be posterior \| sde \| ode, got "ddim"/],
    [['vlm'], null, /"vlm" must be the VLM \(the UNet is guided by an image embedding\)/],
    [['vlm', 'family'], 'siglip', /"vlm\.family" must be "clip" or "blip"/],
    [['files'], undefined, /"files" must be the file list/],
  ])('refuses %j = %j, naming the key', (path, value, message) => {
    expect(() => parseManifest(withChange(path as string[], value), 'm.json')).toThrow(message);
  });

  it('refuses text that is not JSON, saying so', () => {
    expect(() => parseManifest('{"format":', 'm.json')).toThrow(/m\.json: not JSON/);
  });
});

describe('pickedFolder', () => {
  const bytes = (s: string) => new TextEncoder().encode(s);

  it('finds the export in a picked folder and reads its files by relative name', async () => {
    const folder = pickedFolder([
      { path: 'my-model/manifest.json', bytes: bytes('{}') },
      { path: 'my-model/vlm/config.json', bytes: bytes('vlm') },
      { path: 'my-model/unet.onnx', bytes: bytes('unet') },
    ]);
    expect(folder.label).toBe('my-model');
    expect(new TextDecoder().decode(await folder.read('unet.onnx'))).toBe('unet');
    expect(new TextDecoder().decode(await subFolder(folder, 'vlm')('config.json'))).toBe('vlm');
    expect(await folder.read('missing.onnx')).toBeUndefined();
  });

  it('says what is wrong when no manifest.json was picked', () => {
    expect(() => pickedFolder([{ path: 'x/unet.onnx', bytes: bytes('') }])).toThrow(/no manifest\.json among the 1 picked file\(s\)/);
  });
});
