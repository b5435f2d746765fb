/**
 * End-to-end speed on photo folders: photos/s and the per-stage split (scan, decode, detect,
 * align, embed, kNN, links, Infomap, and writing the output folder with its report), with the
 * face models on onnxruntime-node (native, all cores) and on WASM with 1 face worker and with
 * one per core, and with each detector (face-api's SSD + 68 points; YuNet + 68 points, the
 * default; YuNet's own five points), on the same folder in the same run. No face cache.
 * `orl_att` and `bbt_faceapi` (face crops) run in crop mode.
 *
 * Run: `deno run -A bench/photos.ts [--modes native,wasm1,wasm2] [--detectors ssd,yunet,yunet5]
 * [--model dlib|mobilefacenet] [DATASET ...]` (default: five_celebrity),
 * datasets under `../shared/faces`. Prints Markdown rows for BENCHMARKS.md; peak memory is the
 * process's VmHWM so far (run one mode and set alone to get that run's own). Stage seconds of
 * decode/detect/align/embed are summed over the workers (thread seconds); wall is the run.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { MODELS } from "../lib/embed/models.ts";
import { clusterFolder } from "../lib/pipeline/cluster_folder.ts";

/** This process's peak resident memory so far (VmHWM), MiB. */
function peakMiB(): string {
  const m = /VmHWM:\s+(\d+) kB/.exec(Deno.readTextFileSync("/proc/self/status"));
  return m ? (Number(m[1]) / 1024).toFixed(0) : "–";
}

/**
 * Of the ten largest people, the lowest share of its labeled faces that one identity holds
 * (faces without a label, such as a second person in a photo, are not counted).
 */
function worstPurity(faces: { cluster: number; label: string | null }[]): number {
  const size = new Map<number, number>(), labels = new Map<number, Map<string, number>>();
  for (const f of faces) {
    if (f.cluster < 0) continue;
    size.set(f.cluster, (size.get(f.cluster) ?? 0) + 1);
    if (f.label === null) continue;
    const m = labels.get(f.cluster) ?? new Map<string, number>();
    m.set(f.label, (m.get(f.label) ?? 0) + 1);
    labels.set(f.cluster, m);
  }
  const top = [...size.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10);
  let worst = 1;
  for (const [c] of top) {
    const counts = [...(labels.get(c)?.values() ?? [])];
    const total = counts.reduce((a, b) => a + b, 0);
    if (total > 0) worst = Math.min(worst, Math.max(...counts) / total);
  }
  return worst;
}

const SHARED = new URL("../../shared/faces/", import.meta.url).pathname;
const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    modes: { type: "string", default: `native,wasm1,wasm${navigator.hardwareConcurrency}` },
    detectors: { type: "string", default: "ssd,yunet" },
    model: { type: "string", default: "dlib" },
  },
});
const datasets = positionals.length ? positionals : ["five_celebrity"];
const f = (x: number) => x.toFixed(1);
console.log(
  "| set | photos | faces (not faces) | detector | model | face models | wall s | photos/s | decode | detect | align | embed | kNN | links + Infomap + people | write + report | BCubed F / NMI (coverage) | purity of the 10 largest people (worst) | peak MiB |",
);
console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
const model = MODELS[values.model];
for (const name of datasets) {
  for (const mode of values.modes.split(",")) {
    for (const det of values.detectors.split(",")) {
      const inference = mode === "native" ? "native" : "wasm";
      const workers = mode === "native" ? 0 : Number(mode.slice(4));
      const out = await Deno.makeTempDir();
      const t0 = performance.now();
      const r = await clusterFolder(`${SHARED}${name}`, {
        out,
        model,
        detector: det === "ssd" ? "ssd" : "yunet",
        refine: det !== "yunet5",
        crop: name === "orl_att" || name === "bbt_faceapi",
        inference,
        workers,
      });
      const write = r.seconds.write, wall = (performance.now() - t0) / 1000;
      const s = r.seconds;
      const m = r.evaluation?.metrics;
      const metrics = m
        ? `${m.bcubed.f.toFixed(4)} / ${m.nmi.toFixed(4)} (${r.evaluation!.coverage.toFixed(4)})`
        : "–";
      const detector = det === "ssd"
        ? "SSD + 68"
        : det === "yunet5"
        ? "YuNet, 5 points"
        : "YuNet + 68";
      console.log(
        `| ${name} | ${r.photos.length} | ${r.faces.length} (${r.gated.faces}) | ${detector}${
          r.detection.crop ? ", crops" : ""
        } | ${model.name} | ${
          mode === "native" ? "onnxruntime-node" : `WASM, ${workers} worker(s)`
        } | ${f(wall)} | ${(r.photos.length / wall).toFixed(2)} | ${f(s.decode)} | ${
          f(s.detect)
        } | ${f(s.align)} | ${f(s.embed)} | ${s.knn.toFixed(2)} | ${s.cluster.toFixed(2)} | ${
          f(write)
        } | ${metrics} | ${m ? worstPurity(r.faces).toFixed(3) : "–"} | ${peakMiB()} |`,
      );
      await Deno.remove(out, { recursive: true });
    }
  }
}
