import type { ImageEmbedder } from '../embedder';
import { tensorToImages } from '../image/decode-image';
import { describeSource, isNhwcTensor, type ImageBatch } from '../image/image-source';
import { resolveBatchSize, resolveOnError, type ExtractOptions } from '../options';
import { embedSources, type LabelledSource } from './embed-sources';

/**
 * Embeds a list of images (or an NHWC batch tensor), `batchSize` at a time. Returns one vector per
 * input, in order; under `onError: 'skip'` an undecodable image gets `null` (and `onSkip` hears
 * about it), under `'stop'` (the default) the first one throws an error naming it.
 */
export async function extractEmbeddings(embedder: ImageEmbedder, images: ImageBatch, options: ExtractOptions = {}): Promise<(Float32Array | null)[]> {
  const batchSize = resolveBatchSize(options.batchSize);
  const onError = resolveOnError(options.onError);
  let sources: LabelledSource[];
  if (isNhwcTensor(images)) {
    sources = tensorToImages(images).map((img, index) => ({ index, source: img, label: `tensor[${index}]`, decoded: true }));
  } else if (Array.isArray(images)) {
    sources = images.map((source, index) => ({ index, source, label: describeSource(source, index) }));
  } else {
    throw new Error('@srdiff/vlm: extract expects an array of images or an NHWC tensor');
  }
  const results: (Float32Array | null)[] = new Array(sources.length).fill(null);
  let done = 0;
  let embedded = 0;
  let failed = 0;
  await embedSources(embedder, sources, {
    batchSize,
    onError,
    signal: options.signal,
    onBatch: ({ items }) => {
      for (const item of items) {
        results[item.index] = item.embedding;
        done++;
        if (item.embedding) embedded++;
        if (item.failure) {
          failed++;
          options.onSkip?.(item.failure);
        }
      }
      options.onProgress?.({ done, total: sources.length, embedded, failed });
    },
  });
  return results;
}
