/**
 * Half-precision graphs for the WebGPU execution provider (`shader-f16`): constant
 * subgraphs folded in float32 first (the uint8 weight dequantisation of the shipped models,
 * `Cast → Mul → Add`, which onnxruntime cannot fold once it is float16), then every float
 * initializer, `Constant` and `Cast` target turned into float16, with a `Cast` after the
 * input and before each output so that callers still pass and get float32.
 *
 * @module
 */

import { DataType, encodeNode, encodeTensor } from "./builder.ts";
import { ATTR, GRAPH, graphOf, MODEL, NODE, TENSOR } from "./onnx_fields.ts";
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

/** The largest finite float16. */
const HALF_MAX = 65504;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * The float16 bit pattern nearest to a number (round half to even; beyond ±65504 clamped
 * to ±65504, NaN kept).
 *
 * @param v The number.
 * @returns Its float16 bits.
 *
 * @example
 * ```ts
 * import { toHalfBits } from "./fp16.ts";
 * console.log(toHalfBits(1).toString(16)); // "3c00"
 * ```
 */
export function toHalfBits(v: number): number {
  if (Number.isNaN(v)) return 0x7e00;
  f32[0] = Math.max(-HALF_MAX, Math.min(HALF_MAX, v));
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  let mant = x & 0x7fffff;
  if (exp <= 0) {
    // subnormal half (or zero)
    if (exp < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - exp;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1), half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (exp << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++; // a carry rounds into the exponent
  return sign | h;
}

/**
 * The number a float16 bit pattern stands for.
 *
 * @param h The bits.
 * @returns The value.
 *
 * @example
 * ```ts
 * import { fromHalfBits } from "./fp16.ts";
 * console.log(fromHalfBits(0x3c00)); // 1
 * ```
 */
export function fromHalfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f, mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** A constant tensor read from an initializer or a `Constant` node. */
interface Constant {
  dims: number[];
  dataType: number;
  values: Float64Array;
  /** The tensor it was read from (written back as it is unless it is float). */
  source?: ProtoField[];
}

function readConstant(t: ProtoField[]): Constant | null {
  const dims = varints(sub(t, TENSOR.dims)).map(Number);
  const dataType = Number(one(t, TENSOR.dataType)?.int ?? 0n);
  const raw = one(t, TENSOR.rawData)?.bytes;
  const size = dims.reduce((a, b) => a * b, 1);
  let values: Float64Array | null = null;
  if (raw) {
    const b = raw.slice().buffer;
    if (dataType === DataType.FLOAT) values = Float64Array.from(new Float32Array(b));
    else if (dataType === DataType.UINT8) values = Float64Array.from(new Uint8Array(b));
    else if (dataType === DataType.INT64) {
      values = Float64Array.from(new BigInt64Array(b), Number);
    }
  } else if (dataType === DataType.FLOAT) {
    const packed = sub(t, TENSOR.floatData);
    const out: number[] = [];
    for (const f of packed) {
      if (f.wire === 5) out.push(new DataView(f.bytes!.slice().buffer).getFloat32(0, true));
      else {
        const v = f.bytes!.slice();
        out.push(...new Float32Array(v.buffer, 0, v.length / 4));
      }
    }
    values = Float64Array.from(out);
  }
  if (!values || values.length !== size) return null;
  return { dims, dataType, values, source: t };
}

function attrInt(node: ProtoField[], name: string): number | undefined {
  for (const a of sub(node, NODE.attribute)) {
    const af = decodeFields(a.bytes!);
    if (fieldText(one(af, ATTR.name)!) === name) return Number(one(af, ATTR.i)?.int ?? 0n);
  }
  return undefined;
}

// elementwise ops folded on constants whose shapes are equal or one of them a scalar
const FOLDABLE: Record<string, (a: number, b: number) => number> = {
  Mul: (a, b) => a * b,
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Div: (a, b) => a / b,
};

function fold(op: string, node: ProtoField[], args: Constant[]): Constant | null {
  if (op === "Cast" && args.length === 1) {
    const to = attrInt(node, "to");
    if (to !== DataType.FLOAT) return null;
    return { dims: args[0].dims, dataType: DataType.FLOAT, values: args[0].values };
  }
  const f = FOLDABLE[op];
  if (!f || args.length !== 2) return null;
  const [a, b] = args;
  if (a.dataType !== DataType.FLOAT || b.dataType !== DataType.FLOAT) return null;
  const big = a.values.length >= b.values.length ? a : b;
  const scalarOrSame = (c: Constant) => c.values.length === 1 || c.dims.join() === big.dims.join();
  if (!scalarOrSame(a) || !scalarOrSame(b)) return null;
  const values = new Float64Array(big.values.length);
  const ai = a.values.length === 1 ? 0 : 1, bi = b.values.length === 1 ? 0 : 1;
  for (let i = 0; i < values.length; i++) {
    // float32 arithmetic, as onnxruntime would have folded it
    values[i] = Math.fround(f(a.values[i * ai], b.values[i * bi]));
  }
  return { dims: big.dims, dataType: DataType.FLOAT, values };
}

function tensorBytes(name: string, c: Constant): Uint8Array {
  if (c.dataType !== DataType.FLOAT) {
    // integers as they were (int64 values need not fit a double), under their new name
    const t = c.source!.filter((f) => f.field !== TENSOR.name);
    t.push(textField(TENSOR.name, name));
    return encodeFields(t);
  }
  const data = Uint16Array.from(c.values, toHalfBits);
  return encodeTensor({ name, dims: c.dims, dataType: DataType.FLOAT16, data }).finish().slice();
}

/** Ops left in float32 inside a float16 graph (see step 4 of {@link toFloat16}). */
const FLOAT32_OPS = new Set(["Pad"]);

function fuseConvAffine(
  nodes: ProtoField[][],
  consts: Map<string, Constant>,
  initOrder: string[],
): { nodes: ProtoField[][]; count: number } {
  const readers = new Map<string, number[]>();
  nodes.forEach((n, k) => {
    for (const f of sub(n, NODE.input)) {
      const name = fieldText(f);
      readers.set(name, [...(readers.get(name) ?? []), k]);
    }
  });
  const removed = new Set<number>();
  let count = 0;
  nodes = nodes.map((n, k) => {
    if (fieldText(one(n, NODE.op)!) !== "Conv") return n;
    const ins = sub(n, NODE.input).map(fieldText);
    const w = consts.get(ins[1]);
    const b0 = ins[2] ? consts.get(ins[2]) : undefined;
    if (!w || w.dataType !== DataType.FLOAT || (ins[2] && !b0)) return n;
    const co = w.dims[0], per = w.values.length / co;
    let weights: Float64Array | null = null, bias: Float64Array | null = null;
    let out = fieldText(one(n, NODE.output)!);
    for (;;) {
      const r = readers.get(out) ?? [];
      if (r.length !== 1) break;
      const next = nodes[r[0]];
      const op = fieldText(one(next, NODE.op)!);
      if (op !== "Mul" && op !== "Add") break;
      const nin = sub(next, NODE.input).map(fieldText);
      const c = consts.get(nin[0] === out ? nin[1] : nin[0]);
      if (!c || c.dataType !== DataType.FLOAT || !perChannel(c, co)) break;
      weights ??= Float64Array.from(w.values);
      bias ??= b0 ? Float64Array.from(b0.values) : new Float64Array(co);
      for (let o = 0; o < co; o++) {
        const v = c.values[c.values.length === 1 ? 0 : o];
        if (op === "Mul") {
          for (let j = 0; j < per; j++) weights[o * per + j] *= v;
          bias[o] *= v;
        } else bias[o] += v;
      }
      removed.add(r[0]);
      out = fieldText(one(next, NODE.output)!);
    }
    if (!weights) return n;
    count++;
    const wName = `${ins[1]}_fc_fused${k}`, bName = `${wName}_bias`;
    consts.set(wName, { dims: w.dims, dataType: DataType.FLOAT, values: weights.map(Math.fround) });
    consts.set(bName, { dims: [co], dataType: DataType.FLOAT, values: bias!.map(Math.fround) });
    initOrder.push(wName, bName);
    const kept = n.filter((f) => f.field !== NODE.input && f.field !== NODE.output);
    return [
      textField(NODE.input, ins[0]),
      textField(NODE.input, wName),
      textField(NODE.input, bName),
      textField(NODE.output, out),
      ...kept,
    ];
  });
  return { nodes: nodes.filter((_, k) => !removed.has(k)), count };
}

// a constant that holds one value per output channel of an NCHW conv ([C,1,1], [1,C,1,1]) or one
function perChannel(c: Constant, co: number): boolean {
  if (c.values.length === 1) return true;
  if (c.values.length !== co || c.dims.length < 3) return false;
  const ch = c.dims.length - 3;
  return c.dims.every((d, i) => i === ch ? d === co : d === 1);
}

/** What {@link toFloat16} did. */
export interface Float16Model {
  /** The float16 `.onnx` bytes (float32 input and outputs). */
  bytes: Uint8Array;
  /** One line per kind of change. */
  changes: string[];
}

/**
 * Rewrites a float32 model to compute in float16, keeping float32 at its input and outputs.
 * Constant subgraphs of `Cast`/`Mul`/`Add`/`Sub`/`Div` on initializers are folded first (in
 * float32). Initializer values beyond the float16 range are clamped to ±65504.
 *
 * @param bytes A self-contained float32 `.onnx` (external data inlined, see `prepareModel`).
 * @returns The float16 model and what changed.
 * @throws {Error} If the bytes are not an ONNX model.
 *
 * @example
 * ```ts ignore
 * import { toFloat16 } from "./fp16.ts";
 * const half = toFloat16(await Deno.readFile("models/dlib_resnet.onnx"));
 * console.log(half.changes);
 * ```
 */
export function toFloat16(bytes: Uint8Array): Float16Model {
  // one function over 80 lines on purpose: the passes over one graph (fold constants, fuse
  // Mul/Add into Conv, convert initializers, insert casts at the edges) share its tables,
  // and split apart they would pass a dozen maps between them
  const model = decodeFields(bytes);
  const graph = graphOf(model);
  const changes: string[] = [];

  // constants by name
  // (initializers of other types are kept as they are and not folded)
  const consts = new Map<string, Constant>();
  const kept = new Map<string, Uint8Array>();
  const initOrder: string[] = [];
  for (const f of sub(graph, GRAPH.initializer)) {
    const t = decodeFields(f.bytes!);
    const name = fieldText(one(t, TENSOR.name)!);
    const c = readConstant(t);
    if (c) consts.set(name, c);
    else kept.set(name, f.bytes!);
    initOrder.push(name);
  }
  let nodes = sub(graph, GRAPH.node).map((f) => decodeFields(f.bytes!));

  // 1. fold constant subgraphs in float32
  let folded = 0;
  nodes = nodes.filter((n) => {
    const op = fieldText(one(n, NODE.op)!);
    const ins = sub(n, NODE.input).map(fieldText);
    const outs = sub(n, NODE.output).map(fieldText);
    if (op === "Constant") {
      for (const a of sub(n, NODE.attribute)) {
        const af = decodeFields(a.bytes!);
        const t = one(af, ATTR.t);
        if (fieldText(one(af, ATTR.name)!) !== "value" || !t) continue;
        const c = readConstant(decodeFields(t.bytes!));
        if (c) {
          consts.set(outs[0], c);
          initOrder.push(outs[0]);
          folded++;
          return false;
        }
      }
      return true;
    }
    if (outs.length !== 1 || ins.length === 0 || !ins.every((i) => consts.has(i))) return true;
    const c = fold(op, n, ins.map((i) => consts.get(i)!));
    if (!c) return true;
    consts.set(outs[0], c);
    initOrder.push(outs[0]);
    folded++;
    return false;
  });
  if (folded) changes.push(`${folded} constant nodes folded in float32`);

  // 2. per-channel Mul and Add right after a Conv folded into its weights and bias
  // (onnxruntime does this for float32 graphs only)
  const fused = fuseConvAffine(nodes, consts, initOrder);
  nodes = fused.nodes;
  if (fused.count) changes.push(`${fused.count} per-channel Mul/Add folded into Conv weights`);

  // only the constants still read are kept
  const read = new Set<string>();
  for (const n of nodes) for (const f of sub(n, NODE.input)) read.add(fieldText(f));
  const outputsInfo = sub(graph, GRAPH.output);
  const outputNames = outputsInfo.map((f) => fieldText(one(decodeFields(f.bytes!), 1)!));
  for (const o of outputNames) read.add(o);

  // 3. float initializers → float16
  const newInits: Uint8Array[] = [];
  let halved = 0;
  for (const name of initOrder) {
    if (!read.has(name)) continue;
    const c = consts.get(name);
    if (!c) {
      newInits.push(kept.get(name)!);
      continue;
    }
    if (c.dataType === DataType.FLOAT) halved++;
    newInits.push(tensorBytes(name, c));
  }
  changes.push(`${halved} float initializers stored as float16`);

  // 4. inputs and outputs stay float32, with Casts at the edges; ops whose float16 kernels
  // fail in onnxruntime-web under Deno (Pad: its shader is rejected) run in float32 between Casts
  const inputs = sub(graph, GRAPH.input).map((f) => decodeFields(f.bytes!)).map((v) =>
    fieldText(one(v, 1)!)
  ).filter((n) => !consts.has(n) && !kept.has(n));
  const rename = new Map<string, string>();
  const head: Uint8Array[] = [];
  const tail: Uint8Array[] = [];
  for (const i of inputs) {
    rename.set(i, `${i}_fp16`);
    head.push(castNode(i, `${i}_fp16`, DataType.FLOAT16, `fc_fp16_in_${i}`));
  }
  const outRename = new Map<string, string>();
  for (const o of outputNames) {
    outRename.set(o, `${o}_fp16`);
    tail.push(castNode(`${o}_fp16`, o, DataType.FLOAT, `fc_fp16_out_${o}`));
  }
  // renames at the edges, and Casts to float now to float16
  let casts = 0;
  const renamed = nodes.map((n) =>
    n.map((f) => {
      if (f.field === NODE.input) {
        const to = rename.get(fieldText(f)) ?? outRename.get(fieldText(f));
        return to ? textField(NODE.input, to) : f;
      }
      if (f.field === NODE.output) {
        const to = outRename.get(fieldText(f));
        return to ? textField(NODE.output, to) : f;
      }
      if (f.field === NODE.attribute && fieldText(one(n, NODE.op)!) === "Cast") {
        const af = decodeFields(f.bytes!);
        if (
          fieldText(one(af, ATTR.name)!) === "to" && Number(one(af, ATTR.i)?.int) === DataType.FLOAT
        ) {
          casts++;
          return {
            field: NODE.attribute,
            wire: 2 as const,
            bytes: encodeFields(
              af.map((x) => x.field === ATTR.i ? { ...x, int: BigInt(DataType.FLOAT16) } : x),
            ),
          };
        }
      }
      return f;
    })
  );
  // then the float32 ops: their data input (the first) and outputs cross over through Casts
  let wrapped = 0;
  const newNodes: Uint8Array[] = [];
  for (const n of renamed) {
    if (!FLOAT32_OPS.has(fieldText(one(n, NODE.op)!))) {
      newNodes.push(encodeFields(n));
      continue;
    }
    const tag = `fc_f32_${wrapped++}`;
    const ins = sub(n, NODE.input).map(fieldText);
    const outs = sub(n, NODE.output).map(fieldText);
    newNodes.push(castNode(ins[0], `${tag}_in`, DataType.FLOAT, `${tag}_cast_in`));
    let i = 0, o = 0;
    newNodes.push(encodeFields(n.map((f) => {
      if (f.field === NODE.input && i++ === 0) return textField(NODE.input, `${tag}_in`);
      if (f.field === NODE.output) return textField(NODE.output, `${tag}_out${o++}`);
      return f;
    })));
    outs.forEach((out, k) =>
      newNodes.push(castNode(`${tag}_out${k}`, out, DataType.FLOAT16, `${tag}_cast_out${k}`))
    );
  }
  if (wrapped) {
    changes.push(`${wrapped} ${[...FLOAT32_OPS].join("/")} kept in float32 between Casts`);
  }
  if (casts) changes.push(`${casts} Casts to float now cast to float16`);
  changes.push("input and outputs kept float32 (Cast at the edges)");

  const newGraph: ProtoField[] = [];
  let nodesDone = false, initsDone = false;
  for (const f of graph) {
    if (f.field === GRAPH.node) {
      if (nodesDone) continue;
      nodesDone = true;
      for (const b of [...head, ...newNodes, ...tail]) {
        newGraph.push({ field: GRAPH.node, wire: 2, bytes: b });
      }
    } else if (f.field === GRAPH.initializer) {
      if (initsDone) continue;
      initsDone = true;
      for (const b of newInits) newGraph.push({ field: GRAPH.initializer, wire: 2, bytes: b });
    } else if (f.field !== GRAPH.valueInfo) {
      newGraph.push(f);
    }
  }
  if (!initsDone) {
    for (const b of newInits) newGraph.push({ field: GRAPH.initializer, wire: 2, bytes: b });
  }
  const newModel = model.filter((f) => f.field !== MODEL.graph);
  newModel.push({ field: MODEL.graph, wire: 2, bytes: encodeFields(newGraph) });
  return { bytes: encodeFields(newModel), changes };
}

function castNode(input: string, output: string, to: number, name: string): Uint8Array {
  return encodeNode({
    op: "Cast",
    inputs: [input],
    outputs: [output],
    name,
    attrs: { to: { i: to } },
  })
    .finish().slice();
}
