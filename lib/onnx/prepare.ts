/**
 * Reading and rewriting an upstream ONNX export into what facecluster runs: external data
 * inlined (one self-contained file), a batch pinned to 1 by a constant `Reshape` unpinned,
 * the input's normalisation folded into the graph (the model then takes RGB 0..255), and the
 * batch dimension of the input and output made symbolic. Our own protobuf reader and writer,
 * no Python.
 *
 * @module
 */

import { DataType, encodeNode, encodeTensor, encodeValueInfo } from "./builder.ts";
import { GRAPH, graphOf, MODEL, NODE, TENSOR } from "./onnx_fields.ts";
import { ProtoWriter } from "./protobuf.ts";
import {
  decodeFields,
  encodeFields,
  fieldsNumbered as sub,
  fieldText,
  firstField as one,
  type ProtoField,
  textField,
  varints,
} from "./reader.ts";

/** A graph input or output: name, element type and shape (strings are symbolic). */
export interface OnnxValueInfo {
  /** Name. */
  name: string;
  /** ONNX element type (1 = float). */
  elemType: number;
  /** Shape; a symbolic dimension is its name, an unknown one `"?"`. */
  shape: (number | string)[];
}

/** What {@link inspectModel} reads from a model. */
export interface OnnxModelInfo {
  /** Graph inputs that are not initializers. */
  inputs: OnnxValueInfo[];
  /** Graph outputs. */
  outputs: OnnxValueInfo[];
  /** Node count per operator. */
  ops: Record<string, number>;
  /** Files that initializers keep their data in (external data). */
  externalFiles: string[];
}

function readValueInfo(bytes: Uint8Array): OnnxValueInfo {
  const v = decodeFields(bytes);
  const name = fieldText(one(v, 1)!);
  const type = one(v, 2);
  const tensor = type ? one(decodeFields(type.bytes!), 1) : undefined;
  if (!tensor) return { name, elemType: 0, shape: [] };
  const t = decodeFields(tensor.bytes!);
  const elemType = Number(one(t, 1)?.int ?? 0n);
  const shapeField = one(t, 2);
  const shape = shapeField
    ? sub(decodeFields(shapeField.bytes!), 1).map((d) => {
      const df = decodeFields(d.bytes!);
      const value = one(df, 1), param = one(df, 2);
      return value ? Number(value.int) : param ? fieldText(param) : "?";
    })
    : [];
  return { name, elemType, shape };
}

function writeValueInfo(info: OnnxValueInfo): Uint8Array {
  return encodeValueInfo({ name: info.name, dataType: info.elemType, dims: info.shape }).finish()
    .slice();
}

function initializerNames(graph: ProtoField[]): Set<string> {
  const names = new Set<string>();
  for (const f of sub(graph, GRAPH.initializer)) {
    const n = one(decodeFields(f.bytes!), TENSOR.name);
    if (n) names.add(fieldText(n));
  }
  return names;
}

function externalEntries(tensor: ProtoField[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of sub(tensor, TENSOR.external)) {
    const kv = decodeFields(e.bytes!);
    out[fieldText(one(kv, 1)!)] = fieldText(one(kv, 2)!);
  }
  return out;
}

/**
 * Reads a model's inputs, outputs, operators and external data files.
 *
 * @param bytes The `.onnx` file.
 * @returns What it takes and gives.
 * @throws {Error} If the bytes are not an ONNX model.
 *
 * @example
 * ```ts ignore
 * import { inspectModel } from "./prepare.ts";
 * const info = inspectModel(await Deno.readFile("MobileFaceNet.onnx"));
 * console.log(info.inputs[0].shape); // [1, 3, 112, 112]
 * ```
 */
export function inspectModel(bytes: Uint8Array): OnnxModelInfo {
  const graph = graphOf(decodeFields(bytes));
  const inits = initializerNames(graph);
  const ops: Record<string, number> = {};
  for (const n of sub(graph, GRAPH.node)) {
    const op = fieldText(one(decodeFields(n.bytes!), NODE.op)!);
    ops[op] = (ops[op] ?? 0) + 1;
  }
  const files = new Set<string>();
  for (const f of sub(graph, GRAPH.initializer)) {
    const loc = externalEntries(decodeFields(f.bytes!)).location;
    if (loc) files.add(loc);
  }
  return {
    inputs: sub(graph, GRAPH.input).map((f) => readValueInfo(f.bytes!)).filter((v) =>
      !inits.has(v.name)
    ),
    outputs: sub(graph, GRAPH.output).map((f) => readValueInfo(f.bytes!)),
    ops,
    externalFiles: [...files],
  };
}

/** Options of {@link prepareModel}. */
export interface PrepareOptions {
  /** Contents of the external data files, by the name the model uses. */
  externalData?: Record<string, Uint8Array>;
  /** Per-channel `(v / 255 − mean) / std` to fold into the graph (input then RGB 0..255). */
  normalize?: { mean: number[]; std: number[] };
  /** Name of the new input when normalisation is folded. @default "image" */
  inputName?: string;
}

/** The rewritten model and what was changed. */
export interface PreparedModel {
  /** The self-contained `.onnx` bytes. */
  bytes: Uint8Array;
  /** Its input name. */
  input: string;
  /** Its output names. */
  outputs: string[];
  /** One line per change made. */
  changes: string[];
}

function int64Tensor(name: string, values: bigint[]): Uint8Array {
  const data = BigInt64Array.from(values);
  return encodeTensor({ name, dims: [values.length], dataType: DataType.INT64, data }).finish()
    .slice();
}

function floatTensor(name: string, dims: number[], values: number[]): Uint8Array {
  const data = Float32Array.from(values);
  return encodeTensor({ name, dims, dataType: DataType.FLOAT, data }).finish().slice();
}

function nodeBytes(op: string, inputs: string[], outputs: string[], name: string): Uint8Array {
  return encodeNode({ op, inputs, outputs, name, attrs: {} }).finish().slice();
}

function int64Values(tensor: ProtoField[]): bigint[] | null {
  if (Number(one(tensor, TENSOR.dataType)?.int ?? 0n) !== DataType.INT64) return null;
  const raw = one(tensor, TENSOR.rawData);
  if (raw) {
    const b = raw.bytes!.slice();
    return [...new BigInt64Array(b.buffer, 0, b.length / 8)];
  }
  return varints(sub(tensor, TENSOR.int64Data));
}

/**
 * Rewrites an upstream export: inlines its external data, unpins a batch pinned by a
 * constant `Reshape` (shape `[1, …]` becomes `[0, …]`, i.e. "keep the input's batch"), makes
 * the batch dimension of input and output symbolic, drops stale intermediate shapes, and
 * folds the input normalisation in front of the graph.
 *
 * @param bytes The upstream `.onnx`.
 * @param options External data and normalisation.
 * @returns The self-contained model, its input and outputs, and what changed.
 * @throws {Error} If external data is missing or the model has not exactly one input.
 *
 * @example
 * ```ts ignore
 * import { prepareModel } from "./prepare.ts";
 * const p = prepareModel(await Deno.readFile("MobileFaceNet.onnx"), {
 *   externalData: { "MobileFaceNet.onnx.data": await Deno.readFile("MobileFaceNet.onnx.data") },
 *   normalize: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
 * });
 * console.log(p.input, p.changes);
 * ```
 */
export function prepareModel(bytes: Uint8Array, options: PrepareOptions = {}): PreparedModel {
  // one function over 80 lines on purpose: the rewrites of one graph (normalisation folded
  // into the first layer, the batch made dynamic, the input renamed) share its node tables
  const model = decodeFields(bytes);
  const graph = graphOf(model);
  const changes: string[] = [];
  const inits = initializerNames(graph);
  const inputs = sub(graph, GRAPH.input).map((f) => readValueInfo(f.bytes!)).filter((v) =>
    !inits.has(v.name)
  );
  if (inputs.length !== 1) throw new Error(`expected one graph input, found ${inputs.length}`);
  const oldInput = inputs[0];

  // 1. external data → raw_data
  let inlined = 0;
  const newInits: ProtoField[] = sub(graph, GRAPH.initializer).map((f) => {
    const t = decodeFields(f.bytes!);
    if (Number(one(t, TENSOR.location)?.int ?? 0n) !== 1) return f;
    const ext = externalEntries(t);
    const file = options.externalData?.[ext.location];
    if (!file) throw new Error(`external data file ${ext.location} not given`);
    const offset = Number(ext.offset ?? 0);
    const length = ext.length !== undefined ? Number(ext.length) : file.length - offset;
    if (offset + length > file.length) {
      throw new Error(`external data ${ext.location}: ${offset}+${length} past its end`);
    }
    const kept = t.filter((x) => x.field !== TENSOR.external && x.field !== TENSOR.location);
    kept.push({ field: TENSOR.rawData, wire: 2, bytes: file.subarray(offset, offset + length) });
    inlined++;
    return { field: GRAPH.initializer, wire: 2, bytes: encodeFields(kept) };
  });
  if (inlined) changes.push(`inlined ${inlined} external tensors`);

  // constants by name: initializers and Constant nodes
  const constants = new Map<string, bigint[]>();
  for (const f of newInits) {
    const t = decodeFields(f.bytes!);
    const v = int64Values(t);
    if (v) constants.set(fieldText(one(t, TENSOR.name)!), v);
  }
  const nodes = sub(graph, GRAPH.node).map((f) => decodeFields(f.bytes!));
  for (const n of nodes) {
    if (fieldText(one(n, NODE.op)!) !== "Constant") continue;
    for (const a of sub(n, NODE.attribute)) {
      const af = decodeFields(a.bytes!);
      const t = one(af, 5);
      if (fieldText(one(af, 1)!) === "value" && t) {
        const v = int64Values(decodeFields(t.bytes!));
        if (v) constants.set(fieldText(one(n, NODE.output)!), v);
      }
    }
  }

  // 2. Reshape to a constant shape starting with 1 → starting with 0 (copy the batch)
  const extraInits: Uint8Array[] = [];
  const orphaned = new Set<string>();
  const newNodes: Uint8Array[] = nodes.map((n) => {
    const ins = sub(n, NODE.input).map(fieldText);
    if (fieldText(one(n, NODE.op)!) !== "Reshape" || ins.length < 2) return encodeFields(n);
    const shape = constants.get(ins[1]);
    const allowZero = sub(n, NODE.attribute).some((a) => {
      const af = decodeFields(a.bytes!);
      return fieldText(one(af, 1)!) === "allowzero" && (one(af, 3)?.int ?? 0n) !== 0n;
    });
    if (!shape || shape[0] !== 1n || allowZero) return encodeFields(n);
    const name = `${ins[1]}_keep_batch`;
    orphaned.add(ins[1]);
    extraInits.push(int64Tensor(name, [0n, ...shape.slice(1)]));
    changes.push(`Reshape ${ins[1]} [${shape.join(",")}] → [0,${shape.slice(1).join(",")}]`);
    let seen = 0;
    return encodeFields(
      n.map((f) => f.field === NODE.input && seen++ === 1 ? textField(NODE.input, name) : f),
    );
  });

  // the shape constants those Reshapes no longer use are dropped (a Constant node left
  // without readers makes onnxruntime print a warning on every load)
  const used = new Set<string>();
  for (const b of newNodes) {
    for (const f of sub(decodeFields(b), NODE.input)) used.add(fieldText(f));
  }
  const graphOutputs = new Set(sub(graph, GRAPH.output).map((f) => readValueInfo(f.bytes!).name));
  for (let i = newNodes.length - 1; i >= 0; i--) {
    const n = decodeFields(newNodes[i]);
    const out = one(n, NODE.output);
    if (
      fieldText(one(n, NODE.op)!) === "Constant" && out && !used.has(fieldText(out)) &&
      !graphOutputs.has(fieldText(out))
    ) {
      newNodes.splice(i, 1);
      changes.push(`unused Constant ${fieldText(out)} removed`);
    }
  }
  for (let i = newInits.length - 1; i >= 0; i--) {
    const name = fieldText(one(decodeFields(newInits[i].bytes!), TENSOR.name)!);
    if (orphaned.has(name) && !used.has(name)) {
      newInits.splice(i, 1);
      changes.push(`unused initializer ${name} removed`);
    }
  }

  // 3. normalisation folded in front: image → Mul(scale) → Add(shift) → old input
  let inputName = oldInput.name;
  const head: Uint8Array[] = [];
  if (options.normalize) {
    const { mean, std } = options.normalize;
    inputName = options.inputName ?? "image";
    const scale = std.map((s) => 1 / (255 * s));
    const shift = mean.map((m, c) => -m / std[c]);
    extraInits.push(floatTensor(`${inputName}_scale`, [1, 3, 1, 1], scale));
    extraInits.push(floatTensor(`${inputName}_shift`, [1, 3, 1, 1], shift));
    head.push(
      nodeBytes("Mul", [inputName, `${inputName}_scale`], [`${inputName}_scaled`], "fc_norm_mul"),
      nodeBytes(
        "Add",
        [`${inputName}_scaled`, `${inputName}_shift`],
        [oldInput.name],
        "fc_norm_add",
      ),
    );
    changes.push(
      `normalisation (v/255 − [${mean}]) / [${std}] folded in front; input ${inputName} takes RGB 0..255`,
    );
  }

  // 4. symbolic batch on the input and outputs; stale value_info dropped
  const batchy = (v: OnnxValueInfo): OnnxValueInfo =>
    v.shape.length > 0 ? { ...v, shape: ["batch", ...v.shape.slice(1)] } : v;
  const outputs = sub(graph, GRAPH.output).map((f) => batchy(readValueInfo(f.bytes!)));
  const newGraph: ProtoField[] = [];
  for (const f of graph) {
    if (f.field === GRAPH.node) {
      if (head.length) {
        for (const h of head) newGraph.push({ field: GRAPH.node, wire: 2, bytes: h });
        head.length = 0;
      }
      const next = newNodes.shift();
      if (next) newGraph.push({ field: GRAPH.node, wire: 2, bytes: next });
    } else if (f.field === GRAPH.initializer) {
      const next = newInits.shift();
      if (next) newGraph.push(next);
      if (newInits.length === 0) {
        for (const e of extraInits) newGraph.push({ field: GRAPH.initializer, wire: 2, bytes: e });
        extraInits.length = 0;
      }
    } else if (f.field === GRAPH.input) {
      const v = readValueInfo(f.bytes!);
      if (v.name !== oldInput.name) newGraph.push(f);
      else {
        newGraph.push({
          field: GRAPH.input,
          wire: 2,
          bytes: writeValueInfo(batchy({ ...v, name: inputName })),
        });
      }
    } else if (f.field === GRAPH.output) {
      newGraph.push({ field: GRAPH.output, wire: 2, bytes: writeValueInfo(outputs.shift()!) });
    } else if (f.field !== GRAPH.valueInfo) {
      newGraph.push(f);
    }
  }
  for (const e of extraInits) newGraph.push({ field: GRAPH.initializer, wire: 2, bytes: e });
  changes.push("batch dimension of input and output made symbolic");

  const meta = new ProtoWriter();
  meta.bytes(1, "facecluster.prepared");
  meta.bytes(2, changes.join("; "));
  const newModel = model.filter((f) => f.field !== MODEL.graph);
  newModel.push({ field: MODEL.graph, wire: 2, bytes: encodeFields(newGraph) });
  newModel.push({ field: MODEL.metadata, wire: 2, bytes: meta.finish().slice() });
  return {
    bytes: encodeFields(newModel),
    input: inputName,
    outputs: sub(graph, GRAPH.output).map((f) => readValueInfo(f.bytes!).name),
    changes,
  };
}
