import type { SamplerMethod } from '@srdiff/sde';
import type { UNetConfig } from '@srdiff/unet';

/*
 * What `srdiff export --web` writes and the web app (apps/web) reads: no Node.js here, so the
 * page imports the same definitions (types and names) as the exporter.
 */

/** `manifest.json`'s `format`; the app refuses others. */
export const WEB_MANIFEST_FORMAT = 'srdiff-web/1';
export const WEB_MANIFEST_FILE = 'manifest.json';

export interface WebManifest {
  format: typeof WEB_MANIFEST_FORMAT;
  /** What the model is, in a sentence the page shows. */
  description: string;
  /** Where the weights came from (the path given to --model). */
  source: string;
  unet: { file: string; format: 'onnx' | 'safetensors'; config: UNetConfig };
  /** The IR-SDE (the original's `sde` keys) and the default number of sampling steps. */
  sde: { max_sigma: number; T: number; eps: number; schedule: string; sampling_mode: SamplerMethod; steps: number };
  /** The VLM that embeds the degraded image (absent for a UNet without image context). */
  vlm: { family: 'clip' | 'blip'; id: string; folder: string; width: number } | null;
  /** The SRM that refines the embedding (absent when the UNet was trained on raw LQCLS embeddings). */
  srm: { file: string } | null;
  /** Every file with its size and SHA-256 (the app checks them after loading). */
  files: Record<string, { bytes: number; sha256: string }>;
}

