/** The `output` a BLIP embedder reports: the text decoder's last hidden state at position 0. */
export const BLIP_OUTPUT = 'decoder_cls';
