import { selectBackend } from '@srdiff/core';
import { ConditionalUNet, emitUnetGraph, resolveUnetConfig, type UNetOptions } from '../src';

/**
 * The ONNX emitters and the tfjs modules describe the same network: over a matrix of configs, the
 * weights the emitter reads (graph inputs of a training graph, plus those it reads and provably
 * leaves out) are exactly the tfjs ConditionalUNet's parameters, with the same PyTorch shapes.
 */
const CONFIGS: Array<[string, UNetOptions, { textContext?: boolean }]> = [
  ['reference (cross-attention)', { in_nc: 3, out_nc: 3, nf: 8, ch_mult: [1, 2, 4, 8], context_dim: 16, use_degra_context: false, use_image_context: true }, {}],
  ['no context (LinearAttention only)', { in_nc: 3, out_nc: 3, nf: 8, ch_mult: [1, 2, 2], context_dim: null, use_degra_context: false, use_image_context: false }, {}],
  ['prompt path + cross-attention', { in_nc: 3, out_nc: 3, nf: 8, ch_mult: [1, 2, 4, 4], context_dim: 32, use_degra_context: true, use_image_context: true }, { textContext: true }],
  ['one channel, depth 5, nf 8', { in_nc: 1, out_nc: 2, nf: 8, ch_mult: [1, 2, 4, 4, 8], context_dim: 24, use_degra_context: false, use_image_context: true }, {}],
  ['depth 2', { in_nc: 3, out_nc: 3, nf: 16, ch_mult: [1, 3], context_dim: 8, use_degra_context: false, use_image_context: false }, {}],
];

beforeAll(async () => {
  await selectBackend('cpu');
});

test.each(CONFIGS)('%s: the emitter reads every parameter of the tfjs network, with its shape', (_name, options, graphOptions) => {
  const config = resolveUnetConfig(options);
  const model = new ConditionalUNet(config);
  try {
    const named = new Map(model.namedParameters().map(([k, p]) => [k, p.torchShape.join('×')]));
    const net = emitUnetGraph(model.stateDict(), config, { parameters: 'input', ...graphOptions });
    const inputs = new Map(net.g.graphInputs.map((i) => [i.name, (i.shape ?? []).join('×')]));
    const read = [...net.parameterInputs, ...net.unusedParameters];
    expect(new Set(read).size).toBe(read.length);
    expect([...read].sort()).toEqual([...named.keys()].sort());
    for (const k of net.parameterInputs) expect(inputs.get(k)).toBe(named.get(k));
  } finally {
    model.dispose();
  }
});
