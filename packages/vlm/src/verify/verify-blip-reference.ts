import fs from 'node:fs';
import path from 'node:path';
import { verifyRow, type Tolerance, type VerifyRow } from '@srdiff/core';
import { createBlipEmbedder, type BlipEmbedder } from '../blip/blip-embedder';
import { resolveBlipConfig } from '../blip/blip-config';
import { decodeImage } from '../image/decode-image';
import { blipResize, type BlipPreprocessing } from '../preprocess/blip-image-processor';

/**
 * The parity check behind `srdiff verify` for a folder laid out like the reference `tiny-blip/`:
 * `expected.json` (Hugging Face transformers' values on the original's `get_cls_embedding` call
 * path), `model/` (a `save_pretrained` checkpoint) and the images it names. Per image and
 * preprocessing mode: the resized uint8 pixels, `pixel_values`, the CLS embedding from our pixels
 * and from the reference's; where the reference has them, the vision `last_hidden_state` and the
 * decoder's position-0 state after the embeddings and every layer; all images in one batch; and
 * `config.json` resolved against `config_full`. Sizes, head counts and defaults all come from the
 * folder's files.
 */
export const BLIP_TOLERANCES = {
  /** Resized pixels: identical. */
  resized_uint8: { kind: 'abs', value: 0 },
  /** `pixel_values`: float32 values of magnitude ≤ ~2.2, so float32 rounding is ≤ 2.4e-7. */
  pixel_values: { kind: 'abs', value: 2.4e-7 },
  /** Intermediate states, relative to the largest value of the tensor. */
  hidden_states: { kind: 'rel', value: 1e-5 },
  /** The embedding (the reference README's suggested tolerance). */
  cls_embedding: { kind: 'abs', value: 1e-4 },
  /** Resolved config values that differ from `config_full`. */
  config: { kind: 'abs', value: 0 },
} as const satisfies Record<string, Tolerance>;

interface ReferenceTensor {
  shape: number[];
  data: number[];
}

type ReferenceImage = { file: string } & Partial<Record<string, ReferenceTensor>>;

interface Expected {
  images: ReferenceImage[];
  config_full?: Record<string, unknown>;
}

const MODES: readonly BlipPreprocessing[] = ['slow', 'fast'];

function readExpected(dir: string): Expected {
  const file = path.join(dir, 'expected.json');
  let json: Expected;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8')) as Expected;
  } catch (err) {
    throw new Error(`${file}: cannot read reference values (${(err as Error).message})`);
  }
  if (!Array.isArray(json.images) || json.images.length === 0) throw new Error(`${file}: expected a non-empty 'images' list`);
  for (const [i, img] of json.images.entries()) {
    if (typeof img.file !== 'string') throw new Error(`${file}: images[${i}] has no 'file'`);
    for (const mode of MODES) {
      if (!img[`cls_embedding_${mode}`]) throw new Error(`${file}: images[${i}] has no 'cls_embedding_${mode}'`);
    }
  }
  return json;
}

/** `resized_uint8_*` are CHW; our resize gives HWC. */
function hwcToChw(data: Uint8Array, width: number, height: number): Uint8Array {
  const plane = width * height;
  const out = new Uint8Array(data.length);
  for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) out[c * plane + p] = data[p * 3 + c]!;
  return out;
}

/** Values stored as float32 decimals, read back as float32. */
const f32 = (t: ReferenceTensor) => Float32Array.from(t.data, Math.fround);

/** Every `config_full` number, string or boolean that the resolved config has under the same path and that differs. */
export function configDifferences(resolved: Record<string, unknown>, full: Record<string, unknown>, prefix = ''): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(resolved)) {
    const ref = full[key];
    if (value && typeof value === 'object') {
      if (ref && typeof ref === 'object') out.push(...configDifferences(value as Record<string, unknown>, ref as Record<string, unknown>, `${prefix}${key}.`));
      else out.push(`${prefix}${key}: missing from config_full`);
    } else if (ref !== undefined && ref !== value) out.push(`${prefix}${key}: ours ${JSON.stringify(value)}, config_full ${JSON.stringify(ref)}`);
  }
  return out;
}

async function verifyMode(embedder: BlipEmbedder, dir: string, expected: Expected, mode: BlipPreprocessing): Promise<VerifyRow[]> {
  const rows: VerifyRow[] = [];
  const caseName = (img: ReferenceImage) => `${path.basename(path.resolve(dir))}/${path.basename(img.file, path.extname(img.file))}`;
  const decoded = await Promise.all(expected.images.map((img) => decodeImage(path.join(dir, img.file), path.join(dir, img.file))));
  for (const [i, img] of expected.images.entries()) {
    const add = (key: string, got: ArrayLike<number>, ref: ReferenceTensor | undefined, tol: Tolerance) => {
      if (ref) rows.push(verifyRow(caseName(img), `${key} (${mode})`, got, f32(ref), tol));
    };
    const resized = blipResize(decoded[i]!, embedder.preprocessConfig, mode);
    add('resized_uint8', hwcToChw(resized.data, resized.width, resized.height), img[`resized_uint8_${mode}`], BLIP_TOLERANCES.resized_uint8);
    const pixels = embedder.preprocess([decoded[i]!]);
    add('pixel_values', pixels.data, img[`pixel_values_${mode}`], BLIP_TOLERANCES.pixel_values);
    const out = await embedder.run(pixels);
    add('cls_embedding', out.cls.data, img[`cls_embedding_${mode}`], BLIP_TOLERANCES.cls_embedding);
    if (out.visionLastHiddenState) add('vision_last_hidden_state', out.visionLastHiddenState.data, img[`vision_last_hidden_state_${mode}`], BLIP_TOLERANCES.hidden_states);
    const decoder = img[`decoder_hidden_states_pos0_${mode}`];
    if (decoder && out.decoderPosition0) {
      const width = decoder.shape[1]!;
      if (decoder.shape[0] !== out.decoderPosition0.length) throw new Error(`${dir}/expected.json: ${caseName(img)} decoder_hidden_states_pos0_${mode} has ${decoder.shape[0]} rows, the model ${out.decoderPosition0.length} (embeddings + layers)`);
      out.decoderPosition0.forEach((state, layer) => {
        const ref = { shape: [width], data: decoder.data.slice(layer * width, (layer + 1) * width) };
        add(layer === 0 ? 'decoder_pos0.embeddings' : `decoder_pos0.layer${layer - 1}`, state.data, ref, BLIP_TOLERANCES.hidden_states);
      });
    }
    const refPixels = img[`pixel_values_${mode}`];
    if (refPixels) {
      const fromRef = await embedder.run({ shape: refPixels.shape, data: f32(refPixels) });
      add('cls_embedding (reference pixel_values)', fromRef.cls.data, img[`cls_embedding_${mode}`], BLIP_TOLERANCES.cls_embedding);
    }
  }
  // One batch of all images must give what each gives alone.
  const batch = await embedder.embed(decoded);
  for (const [i, img] of expected.images.entries()) {
    rows.push(verifyRow(caseName(img), `cls_embedding (${mode}, batch of ${decoded.length})`, batch[i]!, f32(img[`cls_embedding_${mode}`]!), BLIP_TOLERANCES.cls_embedding));
  }
  return rows;
}

/** Runs the BLIP parity case of a reference folder; see {@link BLIP_TOLERANCES}. Never downloads. */
export async function verifyBlipReference(dir: string): Promise<VerifyRow[]> {
  const expected = readExpected(dir);
  const modelDir = path.join(path.resolve(dir), 'model');
  const rows: VerifyRow[] = [];
  if (expected.config_full) {
    const configFile = path.join(modelDir, 'config.json');
    const resolved = resolveBlipConfig(JSON.parse(fs.readFileSync(configFile, 'utf8')) as Record<string, unknown>, configFile);
    const diffs = configDifferences(resolved as unknown as Record<string, unknown>, expected.config_full);
    rows.push({ case: path.basename(path.resolve(dir)), key: 'config.json resolved = config_full', error: diffs.length, tolerance: 0, kind: 'abs', pass: diffs.length === 0, ...(diffs.length ? { note: diffs.join('; ') } : {}) });
  }
  for (const mode of MODES) {
    const embedder = await createBlipEmbedder({ model: modelDir, allowRemote: false, preprocessing: mode, debugOutputs: true });
    try {
      rows.push(...(await verifyMode(embedder, dir, expected, mode)));
    } finally {
      await embedder.dispose();
    }
  }
  return rows;
}
