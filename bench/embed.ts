/**
 * Embedding throughput on the CPU, side by side in one run: onnxruntime-web's WASM backend as
 * facecluster runs it (a session on the main thread with `wasmThreads()` threads; one-thread
 * sessions in N Deno Workers) against onnxruntime-node
 * (native, N intra-op threads) on the same aligned chips (faces of `bbt_faceapi`, repeated),
 * and how close their embeddings are (cosine).
 *
 * Run: `deno run -A bench/embed.ts [--models dlib,mobilefacenet] [--faces 256]`.
 * MobileFaceNet is taken from the model cache (`$FACECLUSTER_CACHE`). Prints Markdown rows.
 *
 * @module
 */

import { parseArgs } from "node:util";
import * as ortNode from "onnxruntime-node";
import { embedFaces } from "../lib/api.ts";
import { FaceEmbedder } from "../lib/embed/embedder.ts";
import { modelGraph } from "../lib/embed/model_graph.ts";
import { MODELS } from "../lib/embed/models.ts";
import type { RgbImage } from "../lib/image/types.ts";
import { WebWorker } from "../lib/web_worker.ts";
import { chooseInferenceDevice, wasmThreads } from "../lib/embed/onnx_runtime.ts";

const chooseCpu = async () => (await chooseInferenceDevice("cpu")).device;

const SHARED = new URL("../../shared/faces/bbt_faceapi/", import.meta.url).pathname;
const { values } = parseArgs({
  args: Deno.args,
  options: {
    models: { type: "string", default: "dlib,mobilefacenet" },
    faces: { type: "string", default: "256" },
  },
});
const cores = navigator.hardwareConcurrency;
const total = Number(values.faces);

const photos: string[] = [];
for await (const d of Deno.readDir(SHARED)) {
  for await (const f of Deno.readDir(`${SHARED}${d.name}`)) {
    photos.push(`${SHARED}${d.name}/${f.name}`);
  }
}
photos.sort();

console.log(
  `| model | faces | onnxruntime-node, ${cores} threads (faces/s) | facecluster CPU path | WASM, main thread, ${wasmThreads()} threads | WASM, ${cores} workers | ${cores} workers / node | min cosine WASM vs node |`,
);
console.log("|---|---|---|---|---|---|---|---|");
for (const name of values.models.split(",")) {
  const model = MODELS[name];
  // real aligned chips, repeated to the wanted count
  const found = await embedFaces(photos, { model, keepChips: true });
  const base = found.faces.map((f) => f.chip!);
  const chips: RgbImage[] = Array.from({ length: total }, (_, i) => base[i % base.length]);

  // onnxruntime-node on the same graph facecluster runs (prepared for downloaded models)
  const { bytes, input } = await modelGraph(model);
  const session = await ortNode.InferenceSession.create(bytes, {
    intraOpNumThreads: cores,
    graphOptimizationLevel: "all",
  });
  const size = model.size, plane = size * size, batch = 16;
  const nodeOut = new Float32Array(total * model.dims);
  const runNode = async () => {
    for (let b0 = 0; b0 < total; b0 += batch) {
      const n = Math.min(batch, total - b0);
      const x = new Float32Array(n * 3 * plane);
      for (let k = 0; k < n; k++) {
        const px = chips[b0 + k].data;
        for (let c = 0; c < 3; c++) {
          for (let p = 0; p < plane; p++) x[(k * 3 + c) * plane + p] = px[p * 3 + c];
        }
      }
      const r = await session.run({
        [input]: new ortNode.Tensor("float32", x, [n, 3, size, size]),
      });
      nodeOut.set(r[model.output].data as Float32Array, b0 * model.dims);
    }
  };
  await runNode(); // warm-up
  let t0 = performance.now();
  await runNode();
  const nodeRate = total / ((performance.now() - t0) / 1000);
  await session.release();

  // facecluster's own CPU path (native with its session settings, WASM where it cannot load)
  const own = await FaceEmbedder.load(model, { batch, device: await chooseCpu() });
  await own.embedChips(chips.slice(0, batch));
  t0 = performance.now();
  await own.embedChips(chips);
  const ownRate = total / ((performance.now() - t0) / 1000);
  await own.release();

  // WASM, on the main thread's embedder and on N one-thread workers
  const one = await FaceEmbedder.load(model, { batch });
  await one.embedChips(chips.slice(0, 2));
  t0 = performance.now();
  const wasmOut = await one.embedChips(chips);
  const oneRate = total / ((performance.now() - t0) / 1000);
  await one.release();
  const workers = Array.from(
    { length: cores },
    () => new WebWorker(new URL("./embed_worker.ts", import.meta.url), { type: "module" }),
  );
  const ask = (w: Worker, msg: unknown) =>
    new Promise<{ seconds: number }>((ok) => {
      w.onmessage = (e) => ok(e.data);
      w.postMessage(msg);
    });
  await Promise.all(workers.map((w) => ask(w, { type: "init", model: name, batch })));
  const share = Math.ceil(total / cores);
  t0 = performance.now();
  await Promise.all(
    workers.map((w, i) => ask(w, { type: "run", chips: chips.slice(i * share, (i + 1) * share) })),
  );
  const poolRate = total / ((performance.now() - t0) / 1000);
  for (const w of workers) w.terminate();

  // embeddings of the two runtimes (node's raw output normalised here)
  let minCos = 1;
  for (let i = 0; i < total; i++) {
    let dot = 0, nn = 0;
    for (let j = 0; j < model.dims; j++) {
      dot += wasmOut[i * model.dims + j] * nodeOut[i * model.dims + j];
      nn += nodeOut[i * model.dims + j] ** 2;
    }
    minCos = Math.min(minCos, dot / Math.sqrt(nn));
  }
  console.log(
    `| ${name} | ${total} | ${nodeRate.toFixed(1)} | ${ownRate.toFixed(1)} | ${
      oneRate.toFixed(1)
    } | ${poolRate.toFixed(1)} | ${(poolRate / nodeRate).toFixed(2)} | ${minCos.toFixed(6)} |`,
  );
}
