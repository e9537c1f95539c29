/**
 * The id of the tokenizer's `[CLS]` token: position 0 of the `input_ids` that the original's
 * `processor(text="", padding="max_length", max_length=30)` makes (`[CLS] [SEP] [PAD]…`; only
 * position 0 reaches the embedding, see the decoder emitter). BLIP's processor wraps a BERT
 * tokenizer; its `cls_token` (default `"[CLS]"`) is looked up as `BertTokenizer` would: the added
 * tokens of `tokenizer_config.json`, then the line number in `vocab.txt`; a repository that has
 * only `tokenizer.json` is read from its added tokens and vocabulary.
 */
export interface TokenizerFiles {
  /** Parsed `tokenizer_config.json`. */
  tokenizerConfig?: Record<string, unknown>;
  /** Text of `vocab.txt` (one token per line; the id is the line number). */
  vocabTxt?: string;
  /** Parsed `tokenizer.json`. */
  tokenizerJson?: Record<string, unknown>;
}

/** `BertTokenizer`'s default `cls_token`. */
export const DEFAULT_CLS_TOKEN = '[CLS]';

function tokenText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') return (value as { content: string }).content;
  return undefined;
}

function fromAddedTokensDecoder(decoder: unknown, token: string): number | undefined {
  if (!decoder || typeof decoder !== 'object') return undefined;
  for (const [id, entry] of Object.entries(decoder as Record<string, unknown>)) if (tokenText(entry) === token) return Number(id);
  return undefined;
}

function fromVocabTxt(vocab: string, token: string): number | undefined {
  const lines = vocab.split(/\r?\n/);
  const index = lines.indexOf(token);
  return index >= 0 ? index : undefined;
}

function fromTokenizerJson(json: Record<string, unknown>, token: string): number | undefined {
  const added = Array.isArray(json.added_tokens) ? (json.added_tokens as { id?: unknown; content?: unknown }[]) : [];
  const hit = added.find((t) => t.content === token && typeof t.id === 'number');
  if (hit) return hit.id as number;
  const vocab = (json.model as { vocab?: unknown } | undefined)?.vocab;
  if (vocab && typeof vocab === 'object' && !Array.isArray(vocab)) {
    const id = (vocab as Record<string, unknown>)[token];
    if (typeof id === 'number') return id;
  }
  return undefined;
}

/** The `[CLS]` id from the tokenizer files; `source` names the model in the error. */
export function resolveClsTokenId(files: TokenizerFiles, source: string): number {
  const token = tokenText(files.tokenizerConfig?.cls_token) ?? DEFAULT_CLS_TOKEN;
  const id =
    fromAddedTokensDecoder(files.tokenizerConfig?.added_tokens_decoder, token) ??
    (files.vocabTxt !== undefined ? fromVocabTxt(files.vocabTxt, token) : undefined) ??
    (files.tokenizerJson ? fromTokenizerJson(files.tokenizerJson, token) : undefined);
  if (id === undefined || !Number.isInteger(id) || id < 0) {
    const looked = [files.tokenizerConfig && 'tokenizer_config.json', files.vocabTxt !== undefined && 'vocab.txt', files.tokenizerJson && 'tokenizer.json'].filter(Boolean);
    throw new Error(`${source}: the cls token ${JSON.stringify(token)} is not in ${looked.length ? looked.join(', ') : 'any tokenizer file (none found: the model needs vocab.txt or tokenizer.json)'}`);
  }
  return id;
}
