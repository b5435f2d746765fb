/**
 * Face-model throughput on WebGPU beside native CPU inference on the same machine, for the
 * GPU check (`tools/gpu_check.sh`): dlib and (when cached) MobileFaceNet at several batch
 * sizes through onnxruntime-web's WebGPU execution provider, and onnxruntime-node with every
 * core, on the same chips in the same run; and how close the two embeddings are.
 *
 * Run: `deno run -A bench/gpu_embed.ts [--faces 2048] [--batches 16,64,256] [--models dlib]`.
 * Prints one JSON line per case.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { FaceEmbedder } from "../lib/embed/embedder.ts";
import { isModelAvailable, MODELS } from "../lib/embed/models.ts";
import { modelCacheDir } from "../lib/embed/download.ts";
import { nativeInferenceAvailable } from "../lib/embed/onnx_runtime.ts";
import { acquireGpu } from "../lib/gpu/device.ts";
import type { RgbImage } from "../lib/image/types.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    faces: { type: "string", default: "2048" },
    batches: { type: "string", default: "16,64,256" },
    models: { type: "string", default: "dlib,mobilefacenet" },
  },
});
const total = Number(values.faces);
const gpu = await acquireGpu({ allowSoftware: true });
const adapter = gpu?.description ?? null;
gpu?.device.destroy();

for (const name of values.models.split(",")) {
  const model = MODELS[name];
  if (!(await isModelAvailable(model, modelCacheDir()))) {
    console.log(JSON.stringify({ model: name, skipped: "not in the model cache" }));
    continue;
  }
  const chips: RgbImage[] = Array.from({ length: total }, (_, i) => ({
    width: model.size,
    height: model.size,
    data: Uint8Array.from(
      { length: model.size * model.size * 3 },
      (_, j) => (i * 31 + j * 7) % 256,
    ),
  }));
  const time = async (device: "webgpu" | "native", batch: number) => {
    const e = await FaceEmbedder.load(model, { device, batch });
    await e.embedChips(chips.slice(0, batch)); // warm-up (shader compilation)
    const t0 = performance.now();
    const v = await e.embedChips(chips);
    const s = (performance.now() - t0) / 1000;
    await e.release();
    return { v, rate: total / s };
  };
  let native: Float32Array | null = null;
  if (await nativeInferenceAvailable()) {
    const r = await time("native", 16);
    native = r.v;
    console.log(JSON.stringify({
      model: name,
      device: "onnxruntime-node",
      threads: navigator.hardwareConcurrency,
      faces: total,
      faces_per_s: +r.rate.toFixed(1),
    }));
  }
  if (!adapter) continue;
  for (const batch of values.batches.split(",").map(Number)) {
    const r = await time("webgpu", batch);
    let minCos = 1;
    if (native) {
      for (let i = 0; i < total; i++) {
        let d = 0;
        for (let j = 0; j < model.dims; j++) {
          d += r.v[i * model.dims + j] * native[i * model.dims + j];
        }
        minCos = Math.min(minCos, d);
      }
    }
    console.log(JSON.stringify({
      model: name,
      device: "webgpu",
      adapter,
      batch,
      faces: total,
      faces_per_s: +r.rate.toFixed(1),
      min_cosine_vs_native: native ? +minCos.toFixed(6) : null,
    }));
  }
}
