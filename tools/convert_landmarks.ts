/**
 * Converts face-api's 68-point landmark network (`face_landmark_68_model` of
 * `@vladmandic/face-api@1.7.15`, MIT; a dense-block CNN on 112×112 crops) into
 * `models/face_landmark_68.onnx`, quantized weights kept as uint8.
 *
 * Run: `deno run -A tools/convert_landmarks.ts [--from DIR] [--out FILE]`.
 *
 * @module
 */

import { convertMain, SOURCE } from "./faceapi_weights.ts";
import { samePads, TfjsOnnxGraph } from "./tfjs_to_onnx.ts";
import type { TfjsWeight } from "./tfjs_weights.ts";

/** Input size of the network. */
export const LANDMARK_SIZE = 112;
/** Mean RGB subtracted by face-api before dividing by 255. */
const MEAN_RGB = [122.782, 117.001, 104.298];

/**
 * Builds the ONNX model: input `image` [N, 3, 112, 112] RGB 0..255, output `landmarks`
 * [N, 136]: x0, y0, x1, y1, … as fractions of the crop's width and height.
 *
 * @param weights The tfjs weights.
 * @returns The `.onnx` bytes.
 *
 * @example
 * ```ts ignore
 * const onnx = buildLandmarkOnnx(await loadFaceApiWeights("face_landmark_68_model"));
 * ```
 */
export function buildLandmarkOnnx(weights: Map<string, TfjsWeight>): Uint8Array<ArrayBuffer> {
  const t = new TfjsOnnxGraph("face_landmark_68", weights);
  const g = t.g;
  let size = LANDMARK_SIZE;
  /** depthwise 3×3 then pointwise 1×1 then bias, TF `same` padding */
  const separable = (x: string, p: string, stride: number) => {
    const dw = t.depthwise(x, `${p}/depthwise_filter`, stride, samePads(size, 3, stride));
    return g.node("Add", [
      t.conv(dw, `${p}/pointwise_filter`, null, 1, [0, 0, 0, 0]),
      t.channelVector(`${p}/bias`),
    ]);
  };
  const relu = (x: string) => g.node("Relu", [x]);
  const add = (...xs: string[]) => xs.reduce((a, b) => g.node("Add", [a, b]));
  const denseBlock = (x: string, p: string, first: boolean) => {
    const out1 = relu(
      first
        ? t.conv(x, `${p}/conv0/filters`, `${p}/conv0/bias`, 2, samePads(size, 3, 2))
        : separable(x, `${p}/conv0`, 2),
    );
    size = Math.ceil(size / 2);
    const out2 = separable(out1, `${p}/conv1`, 1);
    const out3 = separable(relu(add(out1, out2)), `${p}/conv2`, 1);
    const out4 = separable(relu(add(out1, out2, out3)), `${p}/conv3`, 1);
    return relu(add(out1, out2, out3, out4));
  };
  const input = g.input("image", ["batch", 3, LANDMARK_SIZE, LANDMARK_SIZE]);
  const mean = g.constant("mean_rgb", [1, 3, 1, 1], Float32Array.from(MEAN_RGB));
  const inv = g.constant("inv_255", [], new Float32Array([1 / 255]));
  let x = g.node("Mul", [g.node("Sub", [input, mean]), inv]);
  x = denseBlock(x, "dense0", true);
  x = denseBlock(x, "dense1", false);
  x = denseBlock(x, "dense2", false);
  x = denseBlock(x, "dense3", false);
  x = g.node("AveragePool", [x], { kernel_shape: { ints: [7, 7] }, strides: { ints: [2, 2] } });
  x = g.node("Flatten", [x], { axis: { i: 1 } });
  const fc = t.weight("fc/weights", t.get("fc/weights").shape);
  const out = g.node(
    "Add",
    [g.node("MatMul", [x, fc]), t.weight("fc/bias", [136])],
    {},
    "landmarks",
  );
  g.output(out, ["batch", 136]);
  return t.toModel(
    `face-api 68-point face landmarks (MIT) from ${SOURCE.name}@${SOURCE.version}`,
    "facecluster tools/convert_landmarks.ts",
  );
}

if (import.meta.main) {
  await convertMain("face_landmark_68_model", "face_landmark_68.onnx", buildLandmarkOnnx);
}
