/**
 * End-to-end speed on photo folders: photos/s and the per-stage split (scan, decode, detect,
 * align, embed, kNN, links, Infomap, and writing the output folder with its report), with 1
 * face worker and with one per core, on the same folder in the same run. No face cache.
 *
 * Run: `deno run -A bench/photos.ts [--workers 1,2] [DATASET ...]` (default: five_celebrity),
 * datasets under `../shared/faces`. Prints Markdown rows for BENCHMARKS.md. Stage seconds of
 * decode/detect/align/embed are summed over the workers (thread seconds); wall is the run.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Archive } from "../lib/archive/archive.ts";
import { DLIB_RESNET } from "../lib/embed/models.ts";
import { clusterFolder } from "../lib/pipeline/cluster_folder.ts";

const SHARED = new URL("../../shared/faces/", import.meta.url).pathname;
const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: { workers: { type: "string", default: `1,${navigator.hardwareConcurrency}` } },
});
const datasets = positionals.length ? positionals : ["five_celebrity"];
const f = (x: number) => x.toFixed(1);
console.log(
  "| set | photos | faces | workers | wall s | photos/s | decode | detect | align | embed | kNN | links | Infomap | write + report |",
);
console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
for (const name of datasets) {
  for (const workers of values.workers.split(",").map(Number)) {
    const out = await Deno.makeTempDir();
    const t0 = performance.now();
    const archive = await Archive.open(`${SHARED}${name}`, out, { force: true });
    const r = await clusterFolder(`${SHARED}${name}`, {
      model: DLIB_RESNET,
      workers,
      onChip: (face, chip) => archive.stageChip(face, chip),
    });
    const t1 = performance.now();
    await archive.write(r, { seconds: r.seconds });
    const write = (performance.now() - t1) / 1000, wall = (performance.now() - t0) / 1000;
    const s = r.seconds;
    console.log(
      `| ${name} | ${r.photos.length} | ${r.faces.length} | ${workers} | ${f(wall)} | ${
        (r.photos.length / wall).toFixed(2)
      } | ${f(s.decode)} | ${f(s.detect)} | ${f(s.align)} | ${f(s.embed)} | ${s.knn.toFixed(2)} | ${
        s.links.toFixed(3)
      } | ${s.infomap.toFixed(2)} | ${f(write)} |`,
    );
    await Deno.remove(out, { recursive: true });
  }
}
