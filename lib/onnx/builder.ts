/**
 * Building ONNX models in code: tensors, nodes and a graph, serialised with our own
 * protobuf writer (no Python, no protobuf library).
 *
 * @module
 */

import { ProtoWriter } from "./protobuf.ts";

/** ONNX tensor element types used here. */
export const DataType = { FLOAT: 1, UINT8: 2, INT64: 7, FLOAT16: 10 } as const;

/** An initializer: a named constant tensor. */
export interface OnnxTensor {
  /** Name in the graph. */
  name: string;
  /** Shape. */
  dims: number[];
  /** Element type. */
  dataType: (typeof DataType)[keyof typeof DataType];
  /**
   * The values (Float32Array, Uint8Array or BigInt64Array to match `dataType`; for FLOAT16 the
   * bit patterns in a Uint16Array).
   */
  data: Float32Array | Uint8Array | BigInt64Array | Uint16Array;
}

/** A node attribute value: a number (int if integral unless `float` is set), list or string. */
export type AttrValue =
  | { i: number }
  | { f: number }
  | { ints: number[] }
  | { floats: number[] }
  | { s: string };

/** A graph node. */
export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  name: string;
  attrs: Record<string, AttrValue>;
}

/**
 * A graph input or output: name, element type and shape (strings are symbolic dims; `"?"`
 * is an unknown one).
 */
export interface ValueInfo {
  name: string;
  dataType: number;
  dims: (number | string)[];
}

/**
 * Accumulates a graph and serialises it as an ONNX `ModelProto`.
 *
 * @example
 * ```ts
 * import { GraphBuilder } from "./builder.ts";
 * const g = new GraphBuilder("relu");
 * const x = g.input("x", [1, 4]);
 * g.output(g.node("Relu", [x]), [1, 4]);
 * const bytes = g.toModel({ opset: 18, producer: "example" });
 * console.log(bytes.length > 0); // true
 * ```
 */
export class GraphBuilder {
  #name: string;
  #nodes: OnnxNode[] = [];
  #inits: OnnxTensor[] = [];
  #inputs: ValueInfo[] = [];
  #outputs: ValueInfo[] = [];
  #count = 0;

  /**
   * @param name The graph's name.
   */
  constructor(name: string) {
    this.#name = name;
  }

  /**
   * Declares a float input.
   *
   * @param name Input name.
   * @param dims Shape (strings for symbolic dimensions such as "batch").
   * @returns The name.
   */
  input(name: string, dims: (number | string)[]): string {
    this.#inputs.push({ name, dataType: DataType.FLOAT, dims });
    return name;
  }

  /**
   * Declares a float output.
   *
   * @param name A value in the graph.
   * @param dims Shape.
   */
  output(name: string, dims: (number | string)[]): void {
    this.#outputs.push({ name, dataType: DataType.FLOAT, dims });
  }

  /**
   * Adds an initializer (a second one with the same name and values is the same value).
   *
   * @param name Its name.
   * @param dims Shape.
   * @param data Values; the element type follows the array type.
   * @returns The name.
   */
  constant(name: string, dims: number[], data: Float32Array | Uint8Array | BigInt64Array): string {
    const existing = this.#inits.find((t) => t.name === name);
    if (existing) {
      const same = existing.data.length === data.length &&
        existing.data.every((v, i) => v === data[i]);
      if (!same) throw new Error(`constant ${name} defined twice with different values`);
      return name;
    }
    const dataType = data instanceof Float32Array
      ? DataType.FLOAT
      : data instanceof Uint8Array
      ? DataType.UINT8
      : DataType.INT64;
    this.#inits.push({ name, dims, dataType, data });
    return name;
  }

  /**
   * Adds an int64 initializer (shapes, pads, axes).
   *
   * @param name Its name.
   * @param values The values (a 1-D tensor).
   * @returns The name.
   */
  int64s(name: string, values: number[]): string {
    return this.constant(name, [values.length], BigInt64Array.from(values.map(BigInt)));
  }

  /**
   * Adds a node with one output.
   *
   * @param op Operator type, e.g. "Conv".
   * @param inputs Input value names ("" for an absent optional input).
   * @param attrs Attributes.
   * @param output Output name (generated when omitted).
   * @returns The output name.
   */
  node(
    op: string,
    inputs: string[],
    attrs: Record<string, AttrValue> = {},
    output?: string,
  ): string {
    const out = output ?? `${op.toLowerCase()}_${this.#count}`;
    this.#nodes.push({ op, inputs, outputs: [out], name: `${op}_${this.#count++}`, attrs });
    return out;
  }

  /**
   * Serialises the model.
   *
   * @param meta Opset version, producer name and optional doc string.
   * @returns The `.onnx` bytes.
   */
  toModel(meta: { opset: number; producer: string; doc?: string }): Uint8Array<ArrayBuffer> {
    const graph = new ProtoWriter();
    for (const n of this.#nodes) graph.bytes(1, encodeNode(n));
    graph.bytes(2, this.#name);
    for (const t of this.#inits) graph.bytes(5, encodeTensor(t));
    for (const v of this.#inputs) graph.bytes(11, encodeValueInfo(v));
    for (const v of this.#outputs) graph.bytes(12, encodeValueInfo(v));
    const model = new ProtoWriter();
    model.int(1, 8); // ir_version
    model.bytes(2, meta.producer);
    if (meta.doc) model.bytes(6, meta.doc);
    model.bytes(7, graph);
    const opset = new ProtoWriter();
    opset.bytes(1, "");
    opset.int(2, meta.opset);
    model.bytes(8, opset);
    return model.finish().slice();
  }
}

function encodeAttr(name: string, v: AttrValue): ProtoWriter {
  const w = new ProtoWriter();
  w.bytes(1, name);
  if ("f" in v) {
    w.float(2, v.f);
    w.int(20, 1);
  } else if ("i" in v) {
    w.int(3, v.i);
    w.int(20, 2);
  } else if ("s" in v) {
    w.bytes(4, v.s);
    w.int(20, 3);
  } else if ("floats" in v) {
    w.packedFloats(7, v.floats);
    w.int(20, 6);
  } else {
    w.packedInts(8, v.ints);
    w.int(20, 7);
  }
  return w;
}

/**
 * Serialises a node as an ONNX `NodeProto`.
 *
 * @param n The node.
 * @returns A writer holding the message.
 *
 * @example
 * ```ts
 * import { encodeNode } from "./builder.ts";
 * const w = encodeNode({ op: "Relu", inputs: ["x"], outputs: ["y"], name: "r", attrs: {} });
 * console.log(w.finish().length); // 14
 * ```
 */
export function encodeNode(n: OnnxNode): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.bytes(1, i);
  for (const o of n.outputs) w.bytes(2, o);
  w.bytes(3, n.name);
  w.bytes(4, n.op);
  for (const [name, v] of Object.entries(n.attrs)) w.bytes(5, encodeAttr(name, v));
  return w;
}

/**
 * Serialises an initializer as an ONNX `TensorProto` (raw data).
 *
 * @param t The tensor.
 * @returns A writer holding the message.
 *
 * @example
 * ```ts
 * import { DataType, encodeTensor } from "./builder.ts";
 * const w = encodeTensor({ name: "s", dims: [2], dataType: DataType.INT64, data: new BigInt64Array(2) });
 * console.log(w.finish().length > 16); // true
 * ```
 */
export function encodeTensor(t: OnnxTensor): ProtoWriter {
  const w = new ProtoWriter();
  w.packedInts(1, t.dims);
  w.int(2, t.dataType);
  w.bytes(8, t.name);
  w.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  return w;
}

/**
 * Serialises a graph input or output as an ONNX `ValueInfoProto`.
 *
 * @param v Name, element type and shape.
 * @returns A writer holding the message.
 *
 * @example
 * ```ts
 * import { DataType, encodeValueInfo } from "./builder.ts";
 * const w = encodeValueInfo({ name: "x", dataType: DataType.FLOAT, dims: ["batch", 3] });
 * console.log(w.finish().length > 0); // true
 * ```
 */
export function encodeValueInfo(v: ValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.dims) {
    const dim = new ProtoWriter();
    if (typeof d === "number") dim.int(1, d);
    else if (d !== "?") dim.bytes(2, d);
    shape.bytes(1, dim);
  }
  const tensorType = new ProtoWriter();
  tensorType.int(1, v.dataType);
  tensorType.bytes(2, shape);
  const type = new ProtoWriter();
  type.bytes(1, tensorType);
  const w = new ProtoWriter();
  w.bytes(1, v.name);
  w.bytes(2, type);
  return w;
}
