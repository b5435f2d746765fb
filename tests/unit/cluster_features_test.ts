import { clusterFeatures } from "../../lib/cluster/cluster_features.ts";
import { readNpy } from "../../lib/io/npy.ts";
import { readLabels } from "../../lib/io/labels.ts";
import { evaluate } from "../../lib/metrics/metrics.ts";
import { CpuKnn } from "../../lib/knn/cpu.ts";
import { assertLinksMatchReference, H10K } from "../reference_h10k.ts";
import { assert, assertEquals, hasShared } from "../shared.ts";

Deno.test({
  name: "cluster-features: synthetic_h10k links equal the reference, metrics match C++ Infomap",
  ignore: !hasShared("reference/synthetic_h10k"),
  fn: async () => {
    const feats = await readNpy(H10K.feats);
    const labels = await readLabels(H10K.labels, feats.rows);
    const r = await clusterFeatures(feats, { k: 80, minSim: 0.5, knn: new CpuKnn() });
    await assertLinksMatchReference(r.links, r.knn, 0.5);
    const ref = JSON.parse(await Deno.readTextFile(H10K.metrics))["infomap-cpp"];
    const m = evaluate(labels, r.labels);
    for (
      const [mine, theirs, what] of [
        [m.pairwise.f, ref.metrics.pairwise_f, "pairwise F"],
        [m.bcubed.f, ref.metrics.bcubed_f, "BCubed F"],
        [m.nmi, ref.metrics.nmi, "NMI"],
      ] as [number, number, string][]
    ) {
      assert(Math.abs(mine - theirs) <= 0.01, `${what} ${mine} vs C++ Infomap ${theirs}`);
    }
    assertEquals(r.singletons, ref.singletons, "singletons");
  },
});

Deno.test("cluster-features: rows without links become singletons after the clusters", async () => {
  const data = new Float32Array([
    1,
    0,
    0, //
    0.98,
    0.2,
    0, //
    0,
    0,
    1, // alone
    0,
    1,
    0, //
    0.1,
    0.99,
    0, //
    0,
    0.97,
    0.1,
  ]);
  const r = await clusterFeatures({ rows: 6, cols: 3, data }, { k: 3, minSim: 0.6 });
  assertEquals(Array.from(r.labels), [1, 1, 2, 0, 0, 0]);
  assertEquals([r.numClusters, r.singletons], [3, 1]);
});
