import fs from 'node:fs';
import { ModelFiles, type ModelFilesOptions } from './hub/model-files';
import { resolveModelSource } from './hub/model-source';

/** The vision-language models srdiff embeds with. */
export type VlmFamily = 'clip' | 'blip';

/** `config.json` `model_type`s of each family (a full model or its vision tower). */
export const VLM_MODEL_TYPES: Record<VlmFamily, readonly string[]> = {
  clip: ['clip', 'clip_vision_model', 'clip_vision_model_with_projection'],
  blip: ['blip'],
};

export interface VlmFamilyDetection {
  family: VlmFamily;
  /** How it was decided, for logs: the config's model_type, or the hub id's name when no config is at hand. */
  reason: string;
}

function familyOfModelType(modelType: unknown, where: string): VlmFamily {
  for (const [family, types] of Object.entries(VLM_MODEL_TYPES) as [VlmFamily, readonly string[]][]) if (types.includes(modelType as string)) return family;
  const known = Object.values(VLM_MODEL_TYPES).flat().join(', ');
  throw new Error(`${where}: model_type ${JSON.stringify(modelType)} is not a VLM srdiff can embed with (supported: ${known})`);
}

/**
 * Which family a model is, from its `config.json` `model_type`: a folder's own file, or a hub
 * id's from the local caches (fetched when downloads are allowed). A hub id with no config at
 * hand offline falls back on its name (`…blip…` → BLIP, otherwise CLIP, whose loader then says
 * what is missing).
 */
export async function detectVlmFamily(model: string, options: ModelFilesOptions = {}): Promise<VlmFamilyDetection> {
  const source = resolveModelSource(model, 'VLM');
  const files = new ModelFiles(source, options);
  const configFile = await files.get('config.json').catch(() => undefined);
  if (configFile) {
    let modelType: unknown;
    try {
      modelType = (JSON.parse(fs.readFileSync(configFile, 'utf8')) as { model_type?: unknown }).model_type;
    } catch (err) {
      throw new Error(`${configFile}: cannot read (${(err as Error).message})`, { cause: err });
    }
    return { family: familyOfModelType(modelType, configFile), reason: `config.json model_type ${JSON.stringify(modelType)}` };
  }
  if (source.kind === 'folder') throw new Error(`VLM folder ${source.folder} has no config.json: cannot tell CLIP from BLIP`);
  const byName: VlmFamily = /(^|[/_-])blip([_-]|$)/i.test(source.id) ? 'blip' : 'clip';
  return { family: byName, reason: `no config.json at hand offline; '${source.id}' read by its name` };
}
