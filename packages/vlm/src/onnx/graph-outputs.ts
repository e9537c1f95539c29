import { concatBytes, encodeBytesField, encodeStringField, encodeVarintField, readFields, readString, type ProtoField } from './protobuf';

/**
 * Reading node wiring from an ONNX model and exposing an intermediate tensor as an extra graph
 * output, so that ONNX Runtime computes it alongside the existing outputs in the same run.
 * Field numbers are those of `onnx.proto`.
 */
const MODEL_GRAPH = 7;
const GRAPH_NODE = 1;
const GRAPH_OUTPUT = 12;
const NODE_INPUT = 1;
const NODE_OUTPUT = 2;
const NODE_OP_TYPE = 4;
const VALUE_INFO_NAME = 1;
const VALUE_INFO_TYPE = 2;
const TYPE_TENSOR = 1;
const TENSOR_ELEM_TYPE = 1;
const ELEM_FLOAT = 1;

export interface OnnxNodeWiring {
  opType: string;
  inputs: string[];
  outputs: string[];
}

function graphField(model: Uint8Array): ProtoField {
  const graph = readFields(model).find((f) => f.field === MODEL_GRAPH);
  if (!graph) throw new Error('ONNX model has no graph (is this an .onnx file?)');
  return graph;
}

function nodeWiring(model: Uint8Array, node: ProtoField): OnnxNodeWiring {
  const wiring: OnnxNodeWiring = { opType: '', inputs: [], outputs: [] };
  for (const f of readFields(model, node.payloadStart, node.end)) {
    if (f.field === NODE_INPUT) wiring.inputs.push(readString(model, f));
    else if (f.field === NODE_OUTPUT) wiring.outputs.push(readString(model, f));
    else if (f.field === NODE_OP_TYPE) wiring.opType = readString(model, f);
  }
  return wiring;
}

/** The node that produces `tensorName`, or undefined when no node does (a graph input or initializer). */
export function findProducer(model: Uint8Array, tensorName: string): OnnxNodeWiring | undefined {
  const graph = graphField(model);
  for (const f of readFields(model, graph.payloadStart, graph.end)) {
    if (f.field !== GRAPH_NODE) continue;
    const wiring = nodeWiring(model, f);
    if (wiring.outputs.includes(tensorName)) return wiring;
  }
  return undefined;
}

export function graphOutputNames(model: Uint8Array): string[] {
  const graph = graphField(model);
  return readFields(model, graph.payloadStart, graph.end)
    .filter((f) => f.field === GRAPH_OUTPUT)
    .map((f) => {
      const name = readFields(model, f.payloadStart, f.end).find((g) => g.field === VALUE_INFO_NAME);
      return name ? readString(model, name) : '';
    });
}

/** A copy of the model with `tensorName` (a float32 tensor) appended to the graph outputs. */
export function addGraphOutput(model: Uint8Array, tensorName: string): Uint8Array {
  if (graphOutputNames(model).includes(tensorName)) return model;
  const graph = graphField(model);
  const tensorType = encodeBytesField(TYPE_TENSOR, encodeVarintField(TENSOR_ELEM_TYPE, ELEM_FLOAT));
  const valueInfo = concatBytes([encodeStringField(VALUE_INFO_NAME, tensorName), encodeBytesField(VALUE_INFO_TYPE, tensorType)]);
  const newGraph = concatBytes([model.subarray(graph.payloadStart, graph.end), encodeBytesField(GRAPH_OUTPUT, valueInfo)]);
  return concatBytes([model.subarray(0, graph.start), encodeBytesField(MODEL_GRAPH, newGraph), model.subarray(graph.end)]);
}
