import type { ImageEmbedder, RgbImage } from '../embedder';
import { decodeImage } from '../image/decode-image';
import type { ImageSource } from '../image/image-source';
import type { ExtractFailure, OnImageError } from '../options';

export interface LabelledSource {
  /** Position in the caller's list. */
  index: number;
  source: ImageSource | RgbImage;
  label: string;
  /** Already decoded (tensor inputs): skip the decoder. */
  decoded?: boolean;
}

export interface BatchResult {
  items: { index: number; label: string; embedding: Float32Array | null; failure?: ExtractFailure }[];
}

export interface EmbedSourcesOptions {
  batchSize: number;
  onError: OnImageError;
  signal?: AbortSignal;
  /** Called once per batch, in order, before the next batch starts. */
  onBatch(result: BatchResult): Promise<void> | void;
}

function abortError(signal: AbortSignal): Error {
  const reason = signal.reason;
  return reason instanceof Error ? reason : new Error(`@srdiff/vlm: extraction aborted${reason ? ` (${String(reason)})` : ''}`);
}

/**
 * Decodes and embeds images batch by batch. Decoding errors are per image (the file is named);
 * under `'skip'` the image gets `null` and the rest of its batch is still embedded. Errors of the
 * model itself always stop. The next batch is decoded while the current one runs through the model.
 */
export async function embedSources(embedder: ImageEmbedder, sources: readonly LabelledSource[], options: EmbedSourcesOptions): Promise<void> {
  const batches: LabelledSource[][] = [];
  for (let i = 0; i < sources.length; i += options.batchSize) batches.push(sources.slice(i, i + options.batchSize));
  const decodeBatch = (batch: LabelledSource[]) =>
    Promise.all(
      batch.map(async (s) => {
        try {
          const image = s.decoded ? (s.source as RgbImage) : await decodeImage(s.source as ImageSource, s.label);
          return { s, image, error: undefined };
        } catch (err) {
          return { s, image: undefined, error: err as Error };
        }
      }),
    );
  let pending = batches.length ? decodeBatch(batches[0]!) : undefined;
  for (let b = 0; b < batches.length; b++) {
    if (options.signal?.aborted) throw abortError(options.signal);
    const decoded = await pending!;
    pending = b + 1 < batches.length ? decodeBatch(batches[b + 1]!) : undefined;
    const failed = decoded.filter((d) => d.error);
    if (failed.length && options.onError === 'stop') {
      pending?.catch(() => undefined);
      throw failed[0]!.error;
    }
    const ok = decoded.filter((d) => d.image);
    const embeddings = ok.length ? await embedder.embed(ok.map((d) => d.image!)) : [];
    const byIndex = new Map(ok.map((d, i) => [d.s.index, embeddings[i]!]));
    await options.onBatch({
      items: decoded.map((d) => ({
        index: d.s.index,
        label: d.s.label,
        embedding: byIndex.get(d.s.index) ?? null,
        failure: d.error ? { index: d.s.index, source: d.s.label, error: d.error } : undefined,
      })),
    });
  }
}
