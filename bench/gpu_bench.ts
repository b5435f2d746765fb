/**
 * GPU kNN benchmark for a machine with a hardware adapter (the H200 check of the WGSL
 * kNN issue): `deno run -A bench/gpu_bench.ts N D K [OUT.npy]` generates N synthetic
 * face-like rows of dimension D, writes them to OUT.npy (for bench/gpu_torch.py to time
 * the same data), and times the WGSL kNN twice: pure top-k (min_sim −1, what torch.topk
 * computes) and the graph setting (min_sim 0.5). Prints one JSON line per run.
 *
 * @module
 */

import { acquireGpu } from "../lib/gpu/device.ts";
import { GpuKnn } from "../lib/knn/gpu.ts";
import { encodeNpy } from "../lib/io/npy.ts";
import { syntheticFaces } from "./synthetic.ts";

const [n, d, k] = Deno.args.slice(0, 3).map(Number);
const out = Deno.args[3];
const gpu = await acquireGpu({ allowSoftware: false });
if (!gpu) {
  console.error("no hardware WebGPU adapter");
  Deno.exit(1);
}
const t0 = performance.now();
const { features } = syntheticFaces(n, d, 7);
const genS = (performance.now() - t0) / 1000;
if (out) await Deno.writeFile(out, encodeNpy(features));
const knn = new GpuKnn(gpu);
// warm-up: compile the pipeline on a small problem
await knn.search({ rows: 256, cols: d, data: features.data.subarray(0, 256 * d) }, k);
for (const minSim of [-1, 0.5]) {
  const t = performance.now();
  const g = await knn.search(features, k, { minSim });
  const s = (performance.now() - t) / 1000;
  let kept = 0;
  for (let e = 0; e < g.indices.length; e++) if (g.indices[e] >= 0) kept++;
  console.log(JSON.stringify({
    tool: "facecluster WGSL",
    adapter: gpu.description,
    n,
    d,
    k,
    min_sim: minSim,
    seconds: s,
    gen_seconds: genS,
    kept,
  }));
}
