/**
 * Helpers for building ONNX graphs from tfjs weights whose architecture is defined in code
 * (face-api's networks): weights in ONNX layout with uint8 quantization kept (Cast, Mul,
 * Add in the graph), and TF's convolutions with TF's `same` padding.
 *
 * @module
 */

import { GraphBuilder } from "../lib/onnx/builder.ts";
import type { TfjsWeight } from "./tfjs_weights.ts";

/** TF filters [kh, kw, cin, cout] → ONNX [cout, cin, kh, kw]. */
function toOihw<T extends Uint8Array | Float32Array>(src: T, shape: number[]): T {
  const [kh, kw, ci, co] = shape;
  const out = new (src.constructor as { new (n: number): T })(src.length);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      for (let i = 0; i < ci; i++) {
        for (let o = 0; o < co; o++) {
          out[((o * ci + i) * kh + y) * kw + x] = src[((y * kw + x) * ci + i) * co + o];
        }
      }
    }
  }
  return out;
}

/** TF depthwise filters [kh, kw, c, mult] → ONNX [c·mult, 1, kh, kw]. */
function depthwiseToOnnx<T extends Uint8Array | Float32Array>(src: T, shape: number[]): T {
  const [kh, kw, c, mult] = shape;
  const out = new (src.constructor as { new (n: number): T })(src.length);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      for (let i = 0; i < c; i++) {
        for (let m = 0; m < mult; m++) {
          out[((i * mult + m) * kh + y) * kw + x] = src[((y * kw + x) * c + i) * mult + m];
        }
      }
    }
  }
  return out;
}

/** How a weight is laid out in the ONNX graph. */
export type WeightLayout = "as-is" | "conv" | "depthwise";

/**
 * TF `same` padding [top, left, bottom, right] for a square kernel: the extra pixel goes
 * at the end, as TF does.
 *
 * @param size Input height (= width).
 * @param k Kernel size.
 * @param stride Stride.
 * @returns ONNX `pads`.
 *
 * @example
 * ```ts
 * import { samePads } from "./tfjs_to_onnx.ts";
 * console.log(samePads(112, 3, 2)); // [0, 0, 1, 1]
 * ```
 */
export function samePads(size: number, k: number, stride: number): number[] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + k - size, 0);
  const begin = Math.floor(total / 2), end = total - begin;
  return [begin, begin, end, end];
}

/**
 * A graph under construction from a map of tfjs weights.
 *
 * @example
 * ```ts ignore
 * const t = new TfjsOnnxGraph("net", weights);
 * const w = t.weight("fc", [256, 128]);
 * ```
 */
export class TfjsOnnxGraph {
  /** The underlying builder. */
  readonly g: GraphBuilder;
  #weights: Map<string, TfjsWeight>;

  /**
   * @param name Graph name.
   * @param weights The tfjs weights by name.
   */
  constructor(name: string, weights: Map<string, TfjsWeight>) {
    this.g = new GraphBuilder(name);
    this.#weights = weights;
  }

  /**
   * The stored weight `name`.
   *
   * @param name Weight name.
   * @returns The weight.
   */
  get(name: string): TfjsWeight {
    const w = this.#weights.get(name);
    if (!w) throw new Error(`weight ${name} missing`);
    return w;
  }

  /**
   * A weight as a float value in the graph, with ONNX dims `dims`.
   *
   * @param name Weight name.
   * @param dims ONNX shape.
   * @param layout Permutation from TF's layout.
   * @returns The value name.
   */
  weight(name: string, dims: number[], layout: WeightLayout = "as-is"): string {
    const w = this.get(name);
    const key = name.replaceAll("/", "_");
    const permute = <T extends Uint8Array | Float32Array>(a: T): T =>
      layout === "conv"
        ? toOihw(a, w.shape)
        : layout === "depthwise"
        ? depthwiseToOnnx(a, w.shape)
        : a;
    if (w.float) return this.g.constant(key, dims, permute(w.float));
    const { q, scale, min } = w.quantized!;
    const qName = this.g.constant(`${key}_q`, dims, permute(q));
    const s = this.g.constant(`${key}_scale`, [], new Float32Array([scale]));
    const m = this.g.constant(`${key}_min`, [], new Float32Array([min]));
    const f = this.g.node("Cast", [qName], { to: { i: 1 } });
    return this.g.node("Add", [this.g.node("Mul", [f, s]), m], {}, key);
  }

  /**
   * A convolution with TF weights [kh, kw, cin, cout] (and an optional bias).
   *
   * @param x Input value.
   * @param filters Filter weight name.
   * @param bias Bias weight name, or null.
   * @param stride Stride.
   * @param pads ONNX pads.
   * @returns The output value.
   */
  conv(x: string, filters: string, bias: string | null, stride: number, pads: number[]): string {
    const [kh, kw, ci, co] = this.get(filters).shape;
    const inputs = [x, this.weight(filters, [co, ci, kh, kw], "conv")];
    if (bias) inputs.push(this.weight(bias, [co]));
    return this.g.node("Conv", inputs, {
      kernel_shape: { ints: [kh, kw] },
      strides: { ints: [stride, stride] },
      pads: { ints: pads },
    });
  }

  /**
   * A depthwise convolution with TF weights [kh, kw, c, 1].
   *
   * @param x Input value.
   * @param filters Filter weight name.
   * @param stride Stride.
   * @param pads ONNX pads.
   * @returns The output value.
   */
  depthwise(x: string, filters: string, stride: number, pads: number[]): string {
    const [kh, kw, c, mult] = this.get(filters).shape;
    return this.g.node("Conv", [x, this.weight(filters, [c * mult, 1, kh, kw], "depthwise")], {
      kernel_shape: { ints: [kh, kw] },
      strides: { ints: [stride, stride] },
      pads: { ints: pads },
      group: { i: c },
    });
  }

  /**
   * A per-channel vector shaped [c, 1, 1] to broadcast over NCHW.
   *
   * @param name Weight name of a [c] vector.
   * @returns The value name.
   */
  channelVector(name: string): string {
    const [c] = this.get(name).shape;
    return this.weight(name, [c, 1, 1]);
  }

  /**
   * Serialises the model (opset 18).
   *
   * @param doc Doc string.
   * @param producer Producer name.
   * @returns The `.onnx` bytes.
   */
  toModel(doc: string, producer: string): Uint8Array<ArrayBuffer> {
    return this.g.toModel({ opset: 18, producer, doc });
  }
}
