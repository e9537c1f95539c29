import fs from 'node:fs';
import path from 'node:path';
import { BLIP_TEXT_DEFAULTS, BLIP_VISION_DEFAULTS, resolveBlipConfig, resolveClsTokenId } from '../src';
import { configDifferences } from '../src/verify/verify-blip-reference';

const fixture = path.join(__dirname, 'fixtures', 'tiny-blip');
const raw = JSON.parse(fs.readFileSync(path.join(fixture, 'model', 'config.json'), 'utf8')) as Record<string, unknown>;
const full = (JSON.parse(fs.readFileSync(path.join(fixture, 'expected.json'), 'utf8')) as { config_full: Record<string, unknown> }).config_full;

describe('config.json resolved as transformers BlipConfig does', () => {
  it('the fixture config (defaults omitted) resolves to every value of config_full', () => {
    const resolved = resolveBlipConfig(raw);
    expect(configDifferences(resolved as unknown as Record<string, unknown>, full)).toEqual([]);
    // Values the file omits come from the defaults table.
    expect((raw.text_config as Record<string, unknown>).layer_norm_eps).toBeUndefined();
    expect(resolved.text_config.layer_norm_eps).toBe(1e-12);
    expect(resolved.vision_config.layer_norm_eps).toBe(1e-5);
    expect(resolved.text_config.hidden_act).toBe('gelu');
    expect(resolved.text_config.sep_token_id).toBe(102);
  });

  it('configDifferences finds a value that differs', () => {
    const resolved = resolveBlipConfig({ ...raw, text_config: { ...(raw.text_config as object), layer_norm_eps: 1e-6 } });
    expect(configDifferences(resolved as unknown as Record<string, unknown>, full)).toEqual(['text_config.layer_norm_eps: ours 0.000001, config_full 1e-12']);
  });

  it('an empty config is BLIP base (image 384, patch 16, 12 × 768; decoder 12 × 768 with 8 heads by default)', () => {
    const c = resolveBlipConfig({ model_type: 'blip' });
    expect(c.vision_config).toMatchObject({ image_size: 384, patch_size: 16, hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, intermediate_size: 3072 });
    expect(c.text_config).toMatchObject({ hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 8, encoder_hidden_size: 768, vocab_size: 30524 });
    expect(c.vision_config).toMatchObject(BLIP_VISION_DEFAULTS);
    expect(c.text_config).toMatchObject(BLIP_TEXT_DEFAULTS);
  });

  it('rejects other model types and impossible shapes with the key named', () => {
    expect(() => resolveBlipConfig({ model_type: 'clip' }, 'm/config.json')).toThrow(/m\/config.json: model_type is "clip", expected "blip"/);
    expect(() => resolveBlipConfig({ model_type: 'blip', text_config: { hidden_size: 30, num_attention_heads: 4 } })).toThrow(/text_config: hidden_size 30 is not a multiple of num_attention_heads 4/);
    expect(() => resolveBlipConfig({ model_type: 'blip', vision_config: { image_size: 100, patch_size: 16 } })).toThrow(/image_size 100 is not a multiple of patch_size 16/);
    expect(() => resolveBlipConfig({ model_type: 'blip', vision_config: { hidden_size: '768' } })).toThrow(/vision_config.hidden_size must be a number/);
    expect(() => resolveBlipConfig({ model_type: 'blip', text_config: { hidden_act: 'swish' } })).toThrow(/hidden_act 'swish' is not supported/);
    expect(() => resolveBlipConfig({ model_type: 'blip', text_config: { encoder_hidden_size: 1024 } })).toThrow(/encoder_hidden_size 1024 differs from vision_config.hidden_size 768/);
  });
});

describe('the [CLS] token id from the tokenizer files', () => {
  const vocab = fs.readFileSync(path.join(fixture, 'model', 'vocab.txt'), 'utf8');
  const tokenizerConfig = JSON.parse(fs.readFileSync(path.join(fixture, 'model', 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;

  it('is 101 for the fixture (what its processor put at position 0), from either file', () => {
    expect(resolveClsTokenId({ tokenizerConfig, vocabTxt: vocab }, 'x')).toBe(101);
    expect(resolveClsTokenId({ vocabTxt: vocab }, 'x')).toBe(101);
    expect(resolveClsTokenId({ tokenizerConfig }, 'x')).toBe(101);
  });

  it('follows a renamed cls_token, and reads tokenizer.json', () => {
    expect(resolveClsTokenId({ tokenizerConfig: { cls_token: '[unused3]' }, vocabTxt: vocab }, 'x')).toBe(4);
    expect(resolveClsTokenId({ tokenizerJson: { added_tokens: [{ id: 7, content: '[CLS]' }] } }, 'x')).toBe(7);
    expect(resolveClsTokenId({ tokenizerJson: { model: { vocab: { '[CLS]': 9 } } } }, 'x')).toBe(9);
  });

  it('names the model when the token is nowhere', () => {
    expect(() => resolveClsTokenId({ vocabTxt: 'a\nb\n' }, 'models/x')).toThrow(/models\/x: the cls token "\[CLS\]" is not in vocab.txt/);
  });
});
