/**
 * Converts face-api's SSD MobileNet v1 face detector (`ssd_mobilenetv1_model` of
 * `@vladmandic/face-api@1.7.15`, MIT; trained on WIDER FACE) into
 * `models/ssd_mobilenetv1.onnx`, quantized weights kept as uint8. The box decoding against
 * the 5,118 anchors and the score sigmoid are in the graph; non-maximum suppression is not
 * (it runs in TypeScript, `lib/detect`).
 *
 * Run: `deno run -A tools/convert_ssd.ts [--from DIR] [--out FILE]`.
 *
 * @module
 */

import { convertMain, SOURCE } from "./faceapi_weights.ts";
import { samePads, TfjsOnnxGraph } from "./tfjs_to_onnx.ts";
import { dequantize, type TfjsWeight } from "./tfjs_weights.ts";

/** Input size of the network. */
export const SSD_SIZE = 512;
/** Number of anchors (boxes scored per image). */
export const SSD_ANCHORS = 5118;

/**
 * Builds the ONNX model: input `image` [N, 3, 512, 512] RGB 0..255; outputs `boxes`
 * [N, 5118, 4] (ymin, xmin, ymax, xmax as fractions of the input) and `scores` [N, 5118].
 *
 * @param weights The tfjs weights.
 * @returns The `.onnx` bytes.
 *
 * @example
 * ```ts ignore
 * const onnx = buildSsdOnnx(await loadFaceApiWeights("ssd_mobilenetv1_model"));
 * ```
 */
export function buildSsdOnnx(weights: Map<string, TfjsWeight>): Uint8Array<ArrayBuffer> {
  const t = new TfjsOnnxGraph("ssd_mobilenetv1", weights);
  const g = t.g;
  const zero = g.constant("zero", [], new Float32Array([0]));
  const six = g.constant("six", [], new Float32Array([6]));
  const relu6 = (x: string) => g.node("Clip", [x, zero, six]);
  let size = SSD_SIZE;
  /** conv (any kernel) with TF `same` padding, + offset, relu6 */
  const pointwise = (x: string, p: string, stride: number) => {
    const k = t.get(`${p}/weights`).shape[0];
    const out = t.conv(x, `${p}/weights`, null, stride, samePads(size, k, stride));
    size = Math.ceil(size / stride);
    return relu6(g.node("Add", [out, t.channelVector(`${p}/convolution_bn_offset`)]));
  };
  const depthwise = (x: string, p: string, stride: number) => {
    const out = t.depthwise(x, `${p}/depthwise_weights`, stride, samePads(size, 3, stride));
    size = Math.ceil(size / stride);
    const c = t.get(`${p}/BatchNorm/gamma`).shape[0];
    const bn = g.node("BatchNormalization", [
      out,
      t.weight(`${p}/BatchNorm/gamma`, [c]),
      t.weight(`${p}/BatchNorm/beta`, [c]),
      t.weight(`${p}/BatchNorm/moving_mean`, [c]),
      t.weight(`${p}/BatchNorm/moving_variance`, [c]),
    ], { epsilon: { f: 0.0010000000474974513 } });
    return relu6(bn);
  };
  const shape = (name: string, dims: number[]) => g.int64s(name, dims);
  /** a box-predictor conv (1×1, bias), reshaped from NHWC order to [N, anchors, k] */
  const predictor = (x: string, p: string, k: number, idx: number) => {
    const out = t.conv(x, `${p}/weights`, `${p}/biases`, 1, [0, 0, 0, 0]);
    const nhwc = g.node("Transpose", [out], { perm: { ints: [0, 2, 3, 1] } });
    return g.node("Reshape", [nhwc, shape(`${p.replaceAll("/", "_")}_shape_${idx}`, [0, -1, k])]);
  };

  const input = g.input("image", ["batch", 3, SSD_SIZE, SSD_SIZE]);
  let x = g.node("Sub", [
    g.node("Mul", [input, g.constant("inv_127_5", [], new Float32Array([1 / 127.5]))]),
    g.constant("one", [], new Float32Array([1])),
  ]);
  x = pointwise(x, "MobilenetV1/Conv2d_0_pointwise", 2);
  let conv11 = "";
  for (let i = 1; i <= 13; i++) {
    x = depthwise(x, `MobilenetV1/Conv2d_${i}_depthwise`, [2, 4, 6, 12].includes(i) ? 2 : 1);
    x = pointwise(x, `MobilenetV1/Conv2d_${i}_pointwise`, 1);
    if (i === 11) conv11 = x;
  }
  const features: string[] = [];
  let y = x;
  for (let i = 0; i <= 7; i++) {
    y = pointwise(y, `Prediction/Conv2d_${i}_pointwise`, i % 2 === 1 ? 2 : 1);
    if (i % 2 === 1) features.push(y); // conv1, conv3, conv5, conv7
  }
  const sources = [conv11, x, ...features];
  const boxes = g.node(
    "Concat",
    sources.map((s, i) => predictor(s, `Prediction/BoxPredictor_${i}/BoxEncodingPredictor`, 4, i)),
    { axis: { i: 1 } },
  );
  const classes = g.node(
    "Concat",
    sources.map((s, i) => predictor(s, `Prediction/BoxPredictor_${i}/ClassPredictor`, 3, i)),
    { axis: { i: 1 } },
  );
  // anchors: precomputed centres and sizes, [1, anchors, 1] each
  const a = dequantize(t.get("Output/extra_dim"));
  const n = a.length / 4;
  if (n !== SSD_ANCHORS) throw new Error(`expected ${SSD_ANCHORS} anchors, found ${n}`);
  const cy = new Float32Array(n),
    cx = new Float32Array(n),
    h = new Float32Array(n),
    w = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    h[i] = a[i * 4 + 2] - a[i * 4];
    w[i] = a[i * 4 + 3] - a[i * 4 + 1];
    cy[i] = a[i * 4] + h[i] / 2;
    cx[i] = a[i * 4 + 1] + w[i] / 2;
  }
  const anchor = (name: string, v: Float32Array) => g.constant(name, [1, n, 1], v);
  const [acy, acx, ah, aw] = [
    anchor("anchor_cy", cy),
    anchor("anchor_cx", cx),
    anchor("anchor_h", h),
    anchor("anchor_w", w),
  ];
  const axis2 = shape("axis_2", [2]);
  const part = (src: string, k: number) =>
    g.node("Slice", [src, shape(`start_${k}`, [k]), shape(`end_${k}`, [k + 1]), axis2]);
  const c = (v: number, name: string) => g.constant(name, [], new Float32Array([v]));
  const tenth = c(0.1, "tenth"), fifth = c(0.2, "fifth"), half = c(0.5, "half");
  const mul = (p: string, q: string) => g.node("Mul", [p, q]);
  const ctrY = g.node("Add", [mul(mul(part(boxes, 0), tenth), ah), acy]);
  const ctrX = g.node("Add", [mul(mul(part(boxes, 1), tenth), aw), acx]);
  const halfH = mul(mul(g.node("Exp", [mul(part(boxes, 2), fifth)]), ah), half);
  const halfW = mul(mul(g.node("Exp", [mul(part(boxes, 3), fifth)]), aw), half);
  const decoded = g.node(
    "Concat",
    [
      g.node("Sub", [ctrY, halfH]),
      g.node("Sub", [ctrX, halfW]),
      g.node("Add", [ctrY, halfH]),
      g.node("Add", [ctrX, halfW]),
    ],
    { axis: { i: 2 } },
    "boxes",
  );
  g.output(decoded, ["batch", n, 4]);
  const scores = g.node(
    "Reshape",
    [g.node("Sigmoid", [part(classes, 1)]), shape("scores_shape", [0, -1])],
    {},
    "scores",
  );
  g.output(scores, ["batch", n]);
  return t.toModel(
    `face-api SSD MobileNet v1 face detector (MIT) from ${SOURCE.name}@${SOURCE.version}`,
    "facecluster tools/convert_ssd.ts",
  );
}

if (import.meta.main) {
  await convertMain("ssd_mobilenetv1_model", "ssd_mobilenetv1.onnx", buildSsdOnnx);
}
