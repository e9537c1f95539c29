import { SAMPLER_METHODS } from '@srdiff/sde';
import { WEB_MANIFEST_FILE, WEB_MANIFEST_FORMAT, type WebManifest } from '@srdiff/trainer/web-manifest';

export type { WebManifest };

/** The manifest format this app reads: what `srdiff export --web` writes (one definition, the exporter's). */
export const MANIFEST_FORMAT = WEB_MANIFEST_FORMAT;
export const MANIFEST_FILE = WEB_MANIFEST_FILE;

function fail(source: string, key: string, want: string, got: unknown): never {
  throw new Error(`${source}: "${key}" must be ${want}, got ${JSON.stringify(got)}`);
}

function num(source: string, obj: Record<string, unknown>, key: string, prefix: string, check: (v: number) => boolean, want: string): number {
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || !check(v)) fail(source, `${prefix}${key}`, want, v);
  return v;
}

/** Parses and checks a `manifest.json`; every problem names the key. */
export function parseManifest(text: string, source: string): WebManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${source}: not JSON (${(err as Error).message})`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${source}: expected a JSON object`);
  const m = raw as Record<string, unknown>;
  if (m.format !== MANIFEST_FORMAT) fail(source, 'format', `"${MANIFEST_FORMAT}" (write it with srdiff export --web)`, m.format);
  const unet = m.unet as Record<string, unknown> | undefined;
  if (!unet || typeof unet !== 'object') fail(source, 'unet', 'an object', unet);
  if (typeof unet.file !== 'string' || !unet.file) fail(source, 'unet.file', 'a file name', unet.file);
  if (unet.format !== 'onnx' && unet.format !== 'safetensors') fail(source, 'unet.format', '"onnx" or "safetensors"', unet.format);
  if (!unet.config || typeof unet.config !== 'object') fail(source, 'unet.config', 'the network config', unet.config);
  const sde = m.sde as Record<string, unknown> | undefined;
  if (!sde || typeof sde !== 'object') fail(source, 'sde', 'an object', sde);
  num(source, sde, 'max_sigma', 'sde.', (v) => v > 0, 'a positive number');
  num(source, sde, 'T', 'sde.', (v) => Number.isInteger(v) && v >= 1, 'a positive integer');
  num(source, sde, 'eps', 'sde.', (v) => v > 0 && v < 1, 'a number in (0, 1)');
  num(source, sde, 'steps', 'sde.', (v) => Number.isInteger(v) && v >= 1, 'a positive integer');
  if (typeof sde.schedule !== 'string') fail(source, 'sde.schedule', 'a schedule name', sde.schedule);
  if (!SAMPLER_METHODS.includes(sde.sampling_mode as never)) fail(source, 'sde.sampling_mode', SAMPLER_METHODS.join(' | '), sde.sampling_mode);
  const config = unet.config as Record<string, unknown>;
  const vlm = m.vlm as Record<string, unknown> | null | undefined;
  if (config.use_image_context) {
    if (!vlm || typeof vlm !== 'object') fail(source, 'vlm', 'the VLM (the UNet is guided by an image embedding)', vlm);
    if (vlm.family !== 'clip' && vlm.family !== 'blip') fail(source, 'vlm.family', '"clip" or "blip"', vlm.family);
    if (typeof vlm.folder !== 'string') fail(source, 'vlm.folder', 'a folder name', vlm.folder);
  }
  const srm = m.srm as Record<string, unknown> | null | undefined;
  if (srm && typeof srm.file !== 'string') fail(source, 'srm.file', 'a file name', srm.file);
  if (!m.files || typeof m.files !== 'object') fail(source, 'files', 'the file list', m.files);
  return raw as WebManifest;
}
