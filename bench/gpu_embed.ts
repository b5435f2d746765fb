/**
 * Face-model throughput on WebGPU beside native CPU inference on the same machine, for the
 * GPU check (`tools/gpu_check.sh`): each model through onnxruntime-node with every core,
 * then through onnxruntime-web's WebGPU execution provider in several ways, so that each
 * change's gain shows:
 *
 * - `cpu-io`: float tensors built on the CPU and read back per run (the plain session path);
 * - `gpu-io`: the GPU-resident embedder (chips up as bytes, WGSL layout and normalisation,
 *   input and output bound to GPU buffers);
 * - `+novalidate`: onnxruntime's WebGPU validation off;
 * - `+capture`: onnxruntime's graph capture (recorded once, replayed);
 * - `+nchw`: onnxruntime's kernels in NCHW instead of its default NHWC;
 * - `+fp16`: the float16 rewrite of the model (`shader-f16`);
 * - `cpu-align+gpu-io`: the chips cut from a photo on the CPU (`alignFace`), then `gpu-io`;
 * - `gpu-warp`: the chips cut from the photo on the GPU (`GpuEmbedder.embedFaces`).
 *
 * Every case is timed for about `--seconds` after a warm-up batch, on the same chips, and
 * its embeddings compared with the native ones (worst cosine; the two photo variants cut
 * their own faces, so they are compared with `cpu-align+gpu-io`).
 *
 * Run: `deno run -A bench/gpu_embed.ts [--batches 64,256,1024] [--models dlib,mobilefacenet]
 * [--variants cpu-io,gpu-io,...] [--seconds 3]`. Prints one JSON line per case.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { FaceEmbedder } from "../lib/embed/embedder.ts";
import { GpuEmbedder } from "../lib/embed/gpu_embedder.ts";
import { isModelAvailable, MODELS } from "../lib/embed/models.ts";
import { modelCacheDir } from "../lib/embed/download.ts";
import { loadOnnxModel, nativeInferenceAvailable } from "../lib/embed/onnx_runtime.ts";
import { modelGraph } from "../lib/embed/model_graph.ts";
import { acquireGpu } from "../lib/gpu/device.ts";
import type { RgbImage } from "../lib/image/types.ts";
import { alignFace } from "../lib/align/align.ts";
import type { Point } from "../lib/align/similarity.ts";
import { fivePoints } from "../lib/align/templates.ts";
import { syntheticLandmarks } from "./synthetic.ts";

const ALL = [
  "cpu-io",
  "gpu-io",
  "gpu-io+novalidate",
  "gpu-io+capture",
  "gpu-io+nchw",
  "gpu-io+fp16",
  "gpu-io+fp16+capture+novalidate",
  "cpu-align+gpu-io",
  "gpu-warp",
];
const { values } = parseArgs({
  args: Deno.args,
  options: {
    batches: { type: "string", default: "64,256" },
    models: { type: "string", default: "dlib,mobilefacenet" },
    variants: { type: "string", default: ALL.join(",") },
    seconds: { type: "string", default: "3" },
  },
});
const seconds = Number(values.seconds);
const gpu = await acquireGpu({ allowSoftware: true });
const adapter = gpu?.description ?? null;
gpu?.device.destroy();

/** Something that embeds a list of chips. */
interface Runner {
  embed(chips: RgbImage[]): Promise<Float32Array>;
  release(): Promise<void>;
}

/** Embeds `chips` repeatedly for about `seconds`; faces/s and the first result. */
async function measure(r: Runner, chips: RgbImage[], batch: number) {
  const first = await r.embed(chips.slice(0, batch)); // warm-up: shader compilation, capture
  let faces = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000 || faces === 0) {
    await r.embed(chips);
    faces += chips.length;
  }
  const rate = faces / ((performance.now() - t0) / 1000);
  await r.release();
  return { rate, first };
}

/** A smooth synthetic RGB photo. */
function syntheticPhoto(w: number, h: number): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let p = 0; p < w * h; p++) {
    const x = p % w, y = Math.floor(p / w);
    for (let c = 0; c < 3; c++) {
      data[p * 3 + c] = (128 + 100 * Math.sin(x / (7 + c) + y / 11) * Math.cos(y / 17)) & 255;
    }
  }
  return { width: w, height: h, data };
}

/** `n` faces' 68 landmarks spread over a photo. */
function faceLandmarks(n: number, w: number, h: number): Point[][] {
  return Array.from({ length: n }, (_, i) =>
    syntheticLandmarks(
      40 + ((i * 97) % (w - 80)),
      40 + ((i * 53) % (h - 80)),
      0.6 + (i % 5) * 0.1,
      ((i % 7) - 3) * 0.05,
    ));
}

function worstCosine(a: Float32Array, b: Float32Array, dims: number): number {
  let worst = 1;
  for (let i = 0; i < Math.min(a.length, b.length) / dims; i++) {
    let d = 0, na = 0, nb = 0;
    for (let j = 0; j < dims; j++) {
      d += a[i * dims + j] * b[i * dims + j];
      na += a[i * dims + j] ** 2;
      nb += b[i * dims + j] ** 2;
    }
    worst = Math.min(worst, d / Math.sqrt(na * nb));
  }
  return worst;
}

for (const name of values.models.split(",")) {
  const model = MODELS[name];
  if (!(await isModelAvailable(model, modelCacheDir()))) {
    console.log(JSON.stringify({ model: name, skipped: "not in the model cache" }));
    continue;
  }
  const batches = values.batches.split(",").map(Number);
  const total = Math.max(...batches);
  const chips: RgbImage[] = Array.from({ length: total }, (_, i) => ({
    width: model.size,
    height: model.size,
    data: Uint8Array.from(
      { length: model.size * model.size * 3 },
      (_, j) => (i * 31 + j * 7 + (j >> 9) * 13) % 256,
    ),
  }));
  let native: Float32Array | null = null;
  if (await nativeInferenceAvailable()) {
    const e = await FaceEmbedder.load(model, { device: "native", batch: 16 });
    const r = await measure(
      { embed: (c) => e.embedChips(c), release: () => e.release() },
      chips,
      16,
    );
    native = r.first;
    console.log(JSON.stringify({
      model: name,
      device: "onnxruntime-node",
      threads: navigator.hardwareConcurrency,
      faces_per_s: +r.rate.toFixed(1),
    }));
  }
  if (!adapter) continue;
  for (const batch of batches) {
    const sub = chips.slice(0, batch);
    let photoRef: Float32Array | null = null;
    for (const variant of values.variants.split(",")) {
      let runner: Runner;
      if (variant === "cpu-io") {
        // the plain session: a float tensor from the CPU, the output read back every run
        const graph = await modelGraph(model);
        const s = await loadOnnxModel(graph.bytes, graph.input, "webgpu");
        const plane = model.size * model.size;
        runner = {
          async embed(c) {
            const x = new Float32Array(c.length * 3 * plane);
            for (let k = 0; k < c.length; k++) {
              for (let p = 0; p < plane; p++) {
                for (let ch = 0; ch < 3; ch++) {
                  x[(k * 3 + ch) * plane + p] = c[k].data[p * 3 + ch];
                }
              }
            }
            return (await s.run(x, [c.length, 3, model.size, model.size]))[model.output].data;
          },
          release: () => s.release(),
        };
      } else if (variant === "cpu-align+gpu-io" || variant === "gpu-warp") {
        // a 1280×960 photo holding the batch's faces: cut on the CPU or on the GPU
        const e = await GpuEmbedder.load(model, { batch });
        const photo = syntheticPhoto(1280, 960);
        const faces = faceLandmarks(batch, 1280, 960);
        runner = variant === "gpu-warp"
          ? {
            embed: (c) => e.embedFaces(photo, faces.slice(0, c.length)),
            release: () => e.release(),
          }
          : {
            embed: (c) =>
              e.embedChips(
                faces.slice(0, c.length).map((lm) =>
                  alignFace(photo, fivePoints(lm), model.template, model.size)
                ),
              ),
            release: () => e.release(),
          };
      } else {
        const e = await GpuEmbedder.load(model, {
          batch,
          fp16: variant.includes("fp16"),
          graphCapture: variant.includes("capture"),
          validation: variant.includes("novalidate") ? "disabled" : "basic",
          layout: variant.includes("nchw") ? "NCHW" : undefined,
        });
        runner = { embed: (c) => e.embedChips(c), release: () => e.release() };
      }
      try {
        const r = await measure(runner, sub, batch);
        // the photo variants cut their own chips: the GPU-cut ones against the CPU-cut ones
        const fromPhoto = variant === "cpu-align+gpu-io" || variant === "gpu-warp";
        if (variant === "cpu-align+gpu-io") photoRef = r.first;
        const ref = fromPhoto ? (variant === "gpu-warp" ? photoRef : null) : native;
        console.log(JSON.stringify({
          model: name,
          device: "webgpu",
          adapter,
          variant,
          batch,
          faces_per_s: +r.rate.toFixed(1),
          [fromPhoto ? "min_cosine_vs_cpu_align" : "min_cosine_vs_native"]: ref
            ? +worstCosine(r.first, ref, model.dims).toFixed(6)
            : null,
        }));
      } catch (err) {
        console.log(JSON.stringify({ model: name, variant, batch, error: String(err) }));
      }
    }
  }
}
