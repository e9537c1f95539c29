import type { UNetConfig } from './config';

/** Metadata key under which our checkpoints record the network's config (JSON). */
export const CONFIG_METADATA_KEY = 'srdiff.unet.config';

/** The config a weights file recorded in its metadata, if any; `source` names the file in errors. */
export function configFromMetadata(metadata: Record<string, string>, source: string): UNetConfig | undefined {
  const recorded = metadata[CONFIG_METADATA_KEY];
  if (!recorded) return undefined;
  try {
    return JSON.parse(recorded) as UNetConfig;
  } catch (err) {
    throw new Error(`${source}: metadata "${CONFIG_METADATA_KEY}" is not valid JSON (${(err as Error).message})`);
  }
}
