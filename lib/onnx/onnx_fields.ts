/**
 * Field numbers of onnx.proto3 that facecluster's model rewrites read and write, and the
 * graph of a decoded model.
 *
 * @module
 */

import { decodeFields, firstField, type ProtoField } from "./reader.ts";

/** `ModelProto` fields. */
export const MODEL = { graph: 7, metadata: 14 } as const;
/** `GraphProto` fields. */
export const GRAPH = { node: 1, initializer: 5, input: 11, output: 12, valueInfo: 13 } as const;
/** `NodeProto` fields. */
export const NODE = { input: 1, output: 2, name: 3, op: 4, attribute: 5 } as const;
/** `AttributeProto` fields. */
export const ATTR = { name: 1, f: 2, i: 3, s: 4, t: 5 } as const;
/** `TensorProto` fields. */
export const TENSOR = {
  dims: 1,
  dataType: 2,
  floatData: 4,
  int64Data: 7,
  name: 8,
  rawData: 9,
  external: 13,
  location: 14,
} as const;

/**
 * The decoded graph of a decoded model.
 *
 * @param model The `ModelProto`'s fields.
 * @returns The `GraphProto`'s fields.
 * @throws {Error} If the model has no graph.
 *
 * @example
 * ```ts ignore
 * import { decodeFields } from "./reader.ts";
 * const graph = graphOf(decodeFields(await Deno.readFile("model.onnx")));
 * ```
 */
export function graphOf(model: ProtoField[]): ProtoField[] {
  const g = firstField(model, MODEL.graph);
  if (!g) throw new Error("not an ONNX model: no graph");
  return decodeFields(g.bytes!);
}
