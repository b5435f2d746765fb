/**
 * End-to-end speed on photo folders: photos/s and the per-stage split (scan, decode, detect,
 * align, embed, kNN, links, Infomap, and writing the output folder with its report), with the
 * face models on onnxruntime-node (native, all cores) and on WASM with 1 face worker and with
 * one per core, on the same folder in the same run. No face cache.
 *
 * Run: `deno run -A bench/photos.ts [--modes native,wasm1,wasm2] [DATASET ...]` (default:
 * five_celebrity),
 * datasets under `../shared/faces`. Prints Markdown rows for BENCHMARKS.md; peak memory is the
 * process's VmHWM so far (run one mode and set alone to get that run's own). Stage seconds of
 * decode/detect/align/embed are summed over the workers (thread seconds); wall is the run.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Archive } from "../lib/archive/archive.ts";
import { DLIB_RESNET } from "../lib/embed/models.ts";
import { clusterFolder } from "../lib/pipeline/cluster_folder.ts";

/** This process's peak resident memory so far (VmHWM), MiB. */
function peakMiB(): string {
  const m = /VmHWM:\s+(\d+) kB/.exec(Deno.readTextFileSync("/proc/self/status"));
  return m ? (Number(m[1]) / 1024).toFixed(0) : "–";
}

const SHARED = new URL("../../shared/faces/", import.meta.url).pathname;
const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    modes: { type: "string", default: `native,wasm1,wasm${navigator.hardwareConcurrency}` },
  },
});
const datasets = positionals.length ? positionals : ["five_celebrity"];
const f = (x: number) => x.toFixed(1);
console.log(
  "| set | photos | faces | face models | wall s | photos/s | decode | detect | align | embed | kNN | links | Infomap | write + report | BCubed F / NMI | peak MiB |",
);
console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
for (const name of datasets) {
  for (const mode of values.modes.split(",")) {
    const inference = mode === "native" ? "native" : "wasm";
    const workers = mode === "native" ? 0 : Number(mode.slice(4));
    const out = await Deno.makeTempDir();
    const t0 = performance.now();
    const archive = await Archive.open(`${SHARED}${name}`, out, { force: true });
    const r = await clusterFolder(`${SHARED}${name}`, {
      model: DLIB_RESNET,
      inference,
      workers,
      onChip: (face, chip) => archive.stageChip(face, chip),
    });
    const t1 = performance.now();
    await archive.write(r, { seconds: r.seconds });
    const write = (performance.now() - t1) / 1000, wall = (performance.now() - t0) / 1000;
    const s = r.seconds;
    const m = r.evaluation?.metrics;
    const metrics = m ? `${m.bcubed.f.toFixed(4)} / ${m.nmi.toFixed(4)}` : "–";
    console.log(
      `| ${name} | ${r.photos.length} | ${r.faces.length} | ${
        mode === "native" ? "onnxruntime-node" : `WASM, ${workers} worker(s)`
      } | ${f(wall)} | ${(r.photos.length / wall).toFixed(2)} | ${f(s.decode)} | ${f(s.detect)} | ${
        f(s.align)
      } | ${f(s.embed)} | ${s.knn.toFixed(2)} | ${s.links.toFixed(3)} | ${s.infomap.toFixed(2)} | ${
        f(write)
      } | ${metrics} | ${peakMiB()} |`,
    );
    await Deno.remove(out, { recursive: true });
  }
}
