/**
 * The original network for the converter's parity test: runs face-api's own
 * FaceRecognitionNet (tfjs, CPU backend) on 150×150 RGB crops.
 *
 * Run: `deno run -A tools/faceapi_reference.ts IN.npy OUT.npy [WEIGHTS_DIR]`, IN holding
 * N rows of 150·150·3 values (RGB 0..255, row-major HWC), OUT receiving N×128 descriptors.
 * Without WEIGHTS_DIR the weights come from the npm tarball (as the converter's do).
 *
 * It runs as a process of its own because it changes globals: tfjs and face-api take Deno
 * for Node when they see `process`, and for no platform at all without a browser marker.
 *
 * @module
 */

import { encodeNpy, readNpy } from "../lib/io/npy.ts";
import { DLIB_SIZE, loadDlibWeights } from "./convert_dlib.ts";
import { dequantize } from "./tfjs_weights.ts";

/** Runs face-api on the crops in `input`; returns N×128 descriptors. */
async function run(
  input: Float32Array,
  n: number,
  weightsDir?: string,
): Promise<Float32Array> {
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
  const weights = await loadDlibWeights(weightsDir);
  const map: Record<string, unknown> = {};
  for (const [name, w] of weights) map[name] = tf.tensor(dequantize(w), w.shape);
  faceapi.nets.faceRecognitionNet.loadFromWeightMap(map);
  const size = DLIB_SIZE * DLIB_SIZE * 3;
  const out = new Float32Array(n * 128);
  for (let i = 0; i < n; i++) {
    const x = tf.tensor3d(input.subarray(i * size, (i + 1) * size), [DLIB_SIZE, DLIB_SIZE, 3]);
    const d = await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(x);
    out.set(d, i * 128);
    x.dispose();
  }
  return out;
}

if (import.meta.main) {
  const [inPath, outPath, weightsDir] = Deno.args;
  const m = await readNpy(inPath);
  const out = await run(m.data, m.rows, weightsDir);
  await Deno.writeFile(outPath, encodeNpy({ rows: m.rows, cols: 128, data: out }));
}
