/**
 * The original networks for the converters' parity tests: runs face-api's own networks
 * (tfjs, CPU backend) on square RGB crops.
 *
 * Run: `deno run -A tools/faceapi_reference.ts NET IN.npy OUT.npy [WEIGHTS_DIR]` with NET
 * `recognition` (150×150 crops → 128 values), `landmarks` (112×112 crops → 136 values,
 * fractions of the crop) or `ssd` (512×512 images → 5118 boxes then 5118 scores), IN holding N rows of size·size·3 values (RGB 0..255, row-major
 * HWC). Without WEIGHTS_DIR the weights come from the npm tarball (as the converters' do).
 *
 * It runs as a process of its own because it changes globals: tfjs and face-api take Deno
 * for Node when they see `process`, and for no platform at all without a browser marker.
 *
 * @module
 */

import { encodeNpy, readNpy } from "../lib/io/npy.ts";
import { loadFaceApiWeights } from "./faceapi_weights.ts";
import { dequantize } from "./tfjs_weights.ts";

/** The networks this runs: face-api's name, weights, crop size and output size. */
const NETS = {
  recognition: { net: "faceRecognitionNet", model: "face_recognition_model", size: 150, out: 128 },
  landmarks: { net: "faceLandmark68Net", model: "face_landmark_68_model", size: 112, out: 136 },
  // boxes (5118 × ymin, xmin, ymax, xmax) then scores (5118)
  ssd: { net: "ssdMobilenetv1", model: "ssd_mobilenetv1_model", size: 512, out: 5118 * 5 },
} as const;

/** Runs face-api's `which` network on the crops in `input`; returns N rows of outputs. */
async function run(
  which: keyof typeof NETS,
  input: Float32Array,
  n: number,
  weightsDir?: string,
): Promise<Float32Array> {
  const spec = NETS[which];
  const g = globalThis as Record<string, unknown>;
  g.process = undefined;
  g.WorkerGlobalScope = class {};
  // deno-lint-ignore no-explicit-any
  const faceapi: any = await import("face-api");
  const tf = faceapi.tf;
  await tf.setBackend("cpu");
  await tf.ready();
  class Stub {}
  faceapi.env.setEnv({
    Canvas: Stub,
    CanvasRenderingContext2D: Stub,
    Image: Stub,
    ImageData: Stub,
    Video: Stub,
    createCanvasElement: () => new Stub(),
    createImageElement: () => new Stub(),
    fetch,
    readFile: () => Promise.reject(new Error("no file system")),
  });
  const weights = await loadFaceApiWeights(spec.model, weightsDir);
  const map: Record<string, unknown> = {};
  for (const [name, w] of weights) map[name] = tf.tensor(dequantize(w), w.shape);
  const net = faceapi.nets[spec.net];
  net.loadFromWeightMap(map);
  const size = spec.size * spec.size * 3;
  const out = new Float32Array(n * spec.out);
  for (let i = 0; i < n; i++) {
    const x = tf.tensor3d(input.subarray(i * size, (i + 1) * size), [spec.size, spec.size, 3]);
    const y = await net.forward(x);
    if (which === "ssd") {
      out.set(await y.boxes[0].data(), i * spec.out);
      out.set(await y.scores[0].data(), i * spec.out + 5118 * 4);
      for (const t of [...y.boxes, ...y.scores]) t.dispose();
    } else {
      out.set(await y.data(), i * spec.out);
      y.dispose();
    }
    x.dispose();
  }
  return out;
}

if (import.meta.main) {
  const [which, inPath, outPath, weightsDir] = Deno.args;
  if (!(which in NETS)) throw new Error(`NET must be one of ${Object.keys(NETS).join(", ")}`);
  const m = await readNpy(inPath);
  const out = await run(which as keyof typeof NETS, m.data, m.rows, weightsDir);
  const cols = NETS[which as keyof typeof NETS].out;
  await Deno.writeFile(outPath, encodeNpy({ rows: m.rows, cols, data: out }));
}
