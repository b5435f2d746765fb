/**
 * End-to-end quality on labeled photo folders: face-found rate, pairwise/BCubed/NMI of the
 * project's clustering, and the same embeddings clustered side by side by DBSCAN
 * (eps 0.5 cosine, min 3: the Immich defaults; scikit-learn) in the same run.
 *
 * Run: `deno run -A bench/quality.ts [DATASET ...]` (default: five_celebrity lfw_min10),
 * datasets under `../shared/faces`. Prints Markdown rows for BENCHMARKS.md.
 *
 * @module
 */

import { clusterFolder } from "../lib/pipeline/cluster_folder.ts";
import { clusterFeatures } from "../lib/cluster/cluster_features.ts";
import { evaluate } from "../lib/metrics/metrics.ts";
import { encodeNpy } from "../lib/io/npy.ts";

const SHARED = new URL("../../shared/faces/", import.meta.url).pathname;
const DBSCAN = `
import sys, json, numpy as np
from sklearn.cluster import DBSCAN
x = np.load(sys.argv[1])
labels = DBSCAN(eps=0.5, min_samples=3, metric="cosine").fit_predict(x)
print(json.dumps(labels.tolist()))
`;

const datasets = Deno.args.length ? Deno.args : ["five_celebrity", "lfw_min10"];
const f4 = (x: number) => x.toFixed(4);
console.log(
  "| set | photos | faces | photos with a face | method | pairwise F | BCubed F | NMI | seconds |",
);
console.log("|---|---|---|---|---|---|---|---|---|");
for (const name of datasets) {
  const t0 = performance.now();
  let lastReport = 0;
  const r = await clusterFolder(`${SHARED}${name}`, {
    onProgress: (stage, done, total) => {
      if (stage === "faces" && performance.now() - lastReport > 30000) {
        lastReport = performance.now();
        console.error(`${name}: ${done}/${total} photos`);
      }
    },
  });
  const secs = (performance.now() - t0) / 1000;
  if (!r.evaluation) throw new Error(`${name} is not labeled`);
  const ids = r.faces.filter((f) => f.label !== null).map((f) => f.id);
  const truth = ids.map((id) => r.faces[id].label!);
  const found = new Set(r.faces.map((f) => f.file)).size;
  const row = (method: string, m: ReturnType<typeof evaluate>, s: string) =>
    console.log(
      `| ${name} | ${r.photos.length} | ${r.faces.length} | ${found} (${
        (found / r.photos.length * 100).toFixed(1)
      }%) | ${method} | ${f4(m.pairwise.f)} | ${f4(m.bcubed.f)} | ${f4(m.nmi)} | ${s} |`,
    );
  row(
    `facecluster (k ${r.settings.k}, min_sim ${r.settings.minSim})`,
    r.evaluation.metrics,
    secs.toFixed(1),
  );
  // the same labeled faces' embeddings, for the side-by-side methods
  const dims = r.model.dims;
  const sub = new Float32Array(ids.length * dims);
  ids.forEach((id, i) => sub.set(r.vectors.subarray(id * dims, (id + 1) * dims), i * dims));
  for (const minSim of [0.5, 0.93]) {
    const c = await clusterFeatures({ rows: ids.length, cols: dims, data: sub }, { k: 80, minSim });
    row(
      `seed's rule + Infomap, labeled faces only, min_sim ${minSim}`,
      evaluate(truth, c.labels),
      "–",
    );
  }
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(`${dir}/x.npy`, encodeNpy({ rows: ids.length, cols: dims, data: sub }));
  await Deno.writeTextFile(`${dir}/dbscan.py`, DBSCAN);
  const py = await new Deno.Command("/usr/bin/python3", {
    args: [`${dir}/dbscan.py`, `${dir}/x.npy`],
  })
    .output();
  if (py.success) {
    const raw = JSON.parse(new TextDecoder().decode(py.stdout)) as number[];
    // DBSCAN's noise (−1) points are each their own cluster
    const labels = raw.map((l, i) => (l < 0 ? `noise${i}` : String(l)));
    row("DBSCAN eps 0.5 cosine, min 3 (Immich defaults)", evaluate(truth, labels), "–");
  } else console.error(new TextDecoder().decode(py.stderr));
  await Deno.remove(dir, { recursive: true });
  console.error(`${name}: seconds ${JSON.stringify(r.seconds)}`);
}
