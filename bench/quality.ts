/**
 * End-to-end quality on labeled photo folders, per embedding model (and with mirrored
 * embedding averaged in): face-found rate; verification (ROC AUC, TAR at FAR 1e-3 and 1e-4
 * over all same-person and all different-person pairs of the labeled faces); clustering
 * (pairwise F, BCubed F, NMI) of the project's default, the seed's rule (k 80, min_sim 0.5)
 * and DBSCAN (eps 0.5 cosine, min 3: the Immich defaults; scikit-learn) on the same
 * embeddings; and a min_sim sweep.
 *
 * Run: `deno run -A bench/quality.ts [--models dlib,mobilefacenet] [--flip both|no|yes]
 * [--sweep] [DATASET ...]` (default datasets: five_celebrity lfw_min10),
 * under `../shared/faces`. MobileFaceNet is taken from the model cache (`$FACECLUSTER_CACHE`;
 * `cli.ts models fetch mobilefacenet`). Prints Markdown rows for BENCHMARKS.md.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { clusterFolder } from "../lib/pipeline/cluster_folder.ts";
import { clusterFeatures } from "../lib/cluster/cluster_features.ts";
import { evaluate } from "../lib/metrics/metrics.ts";
import { verification } from "../lib/metrics/verification.ts";
import { encodeNpy } from "../lib/io/npy.ts";
import { MODELS } from "../lib/embed/models.ts";

const SHARED = new URL("../../shared/faces/", import.meta.url).pathname;
const DBSCAN = `
import sys, json, numpy as np
from sklearn.cluster import DBSCAN
x = np.load(sys.argv[1])
labels = DBSCAN(eps=0.5, min_samples=3, metric="cosine").fit_predict(x)
print(json.dumps(labels.tolist()))
`;

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    models: { type: "string", default: "dlib,mobilefacenet" },
    flip: { type: "string", default: "no" },
    sweep: { type: "boolean", default: false },
  },
});
const datasets = positionals.length ? positionals : ["five_celebrity", "lfw_min10"];
const flips = values.flip === "both" ? [false, true] : [values.flip === "yes"];
const f4 = (x: number) => x.toFixed(4);

async function dbscan(data: Float32Array, rows: number, cols: number): Promise<string[] | null> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/x.npy`, encodeNpy({ rows, cols, data }));
    await Deno.writeTextFile(`${dir}/dbscan.py`, DBSCAN);
    const py = await new Deno.Command("/usr/bin/python3", {
      args: [`${dir}/dbscan.py`, `${dir}/x.npy`],
    }).output();
    if (!py.success) {
      console.error(new TextDecoder().decode(py.stderr));
      return null;
    }
    const raw = JSON.parse(new TextDecoder().decode(py.stdout)) as number[];
    // DBSCAN's noise (−1) points are each their own cluster
    return raw.map((l, i) => (l < 0 ? `noise${i}` : String(l)));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const verifyRows: string[] = [];
const clusterRows: string[] = [];
const sweepRows: string[] = [];
for (const name of datasets) {
  for (const modelName of values.models.split(",")) {
    const model = MODELS[modelName];
    if (!model) throw new Error(`unknown model ${modelName}`);
    for (const flip of flips) {
      const tag = `${model.name}${flip ? " + flip" : ""}`;
      const t0 = performance.now();
      let lastReport = 0;
      const r = await clusterFolder(`${SHARED}${name}`, {
        model,
        flip,
        onProgress: (stage, done, total) => {
          if (stage === "faces" && performance.now() - lastReport > 30000) {
            lastReport = performance.now();
            console.error(`${name} ${tag}: ${done}/${total} photos`);
          }
        },
      });
      const secs = (performance.now() - t0) / 1000;
      console.error(`${name} ${tag}: ${secs.toFixed(1)} s, ${JSON.stringify(r.seconds)}`);
      if (!r.evaluation) throw new Error(`${name} is not labeled`);
      // the labeled faces (one per photo: the face nearest the centre)
      const ids = r.faces.filter((f) => f.label !== null).map((f) => f.id);
      const truth = ids.map((id) => r.faces[id].label!);
      const dims = model.dims;
      const sub = new Float32Array(ids.length * dims);
      ids.forEach((id, i) => sub.set(r.vectors.subarray(id * dims, (id + 1) * dims), i * dims));
      const found = new Set(r.faces.map((f) => f.file)).size;

      const v = verification(sub, dims, truth);
      verifyRows.push(
        `| ${name} | ${tag} | ${ids.length} | ${v.samePairs} | ${v.differentPairs} | ${
          f4(v.auc)
        } | ${v.tar.map((t) => `${f4(t.tar)} (cos ${t.threshold.toFixed(3)})`).join(" | ")} |`,
      );

      const row = (method: string, m: ReturnType<typeof evaluate>) =>
        clusterRows.push(
          `| ${name} | ${tag} | ${r.photos.length} | ${r.faces.length} | ${found} | ${method} | ${
            f4(m.pairwise.f)
          } | ${f4(m.bcubed.f)} | ${f4(m.nmi)} |`,
        );
      row(
        `facecluster (k ${r.settings.k}, min_sim ${r.settings.minSim})`,
        r.evaluation.metrics,
      );
      // the side-by-side methods see every face too, and are scored on the labeled ones
      const all = { rows: r.faces.length, cols: dims, data: r.vectors };
      const seed = await clusterFeatures(all, { k: 80, minSim: 0.5 });
      row(
        "seed's rule (k 80, min_sim 0.5) + Infomap",
        evaluate(truth, ids.map((id) => seed.labels[id])),
      );
      const db = await dbscan(r.vectors, r.faces.length, dims);
      if (db) row("DBSCAN eps 0.5 cosine, min 3", evaluate(truth, ids.map((id) => db[id])));
      if (values.sweep) {
        const base = model.minSim;
        const grid = base > 0.8
          ? [0.9, 0.91, 0.92, 0.93, 0.94, 0.95]
          : [0.3, 0.35, 0.4, 0.45, 0.5, 0.55];
        if (!grid.includes(base)) grid.push(base);
        const cells: string[] = [];
        for (const minSim of grid.sort()) {
          const c = await clusterFeatures(all, { k: 80, minSim });
          const m = evaluate(truth, ids.map((id) => c.labels[id]));
          cells.push(`${minSim}: ${f4(m.bcubed.f)} / ${f4(m.nmi)}`);
        }
        sweepRows.push(`| ${name} | ${tag} | ${cells.join(" | ")} |`);
      }
    }
  }
}
console.log("\nVerification (labeled faces, all pairs):\n");
console.log(
  "| set | model | faces | same pairs | different pairs | AUC | TAR@FAR1e-3 | TAR@FAR1e-4 |",
);
console.log("|---|---|---|---|---|---|---|---|");
for (const r of verifyRows) console.log(r);
console.log("\nClustering:\n");
console.log(
  "| set | model | photos | faces | photos with a face | method | pairwise F | BCubed F | NMI |",
);
console.log("|---|---|---|---|---|---|---|---|---|");
for (const r of clusterRows) console.log(r);
if (sweepRows.length) {
  console.log("\nmin_sim sweep (k 80; BCubed F / NMI):\n");
  for (const r of sweepRows) console.log(r);
}
