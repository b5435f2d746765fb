import { acquireGpu, type GpuContext } from "../../lib/gpu/device.ts";
import { GpuError, GpuKnn } from "../../lib/knn/gpu.ts";
import { CpuKnn } from "../../lib/knn/cpu.ts";
import { linksFromKnn } from "../../lib/knn/links.ts";
import { FallbackKnn } from "../../lib/knn/select.ts";
import { clusterFeatures } from "../../lib/cluster/cluster_features.ts";
import { readNpy } from "../../lib/io/npy.ts";
import type { KnnBackend, KnnGraph } from "../../lib/knn/types.ts";
import type { Matrix } from "../../lib/io/npy.ts";
import { assertExactKnn, randomRows } from "../knn_helpers.ts";
import { assertLinksMatchReference, H10K } from "../reference_h10k.ts";
import { assert, assertEquals, hasShared } from "../shared.ts";

// lavapipe (Debian's mesa-vulkan-drivers, installed by .ci/run) gives a software adapter
const gpu: GpuContext | null = await acquireGpu({ allowSoftware: true });
if (!gpu) console.warn("SKIP: no WebGPU adapter (install mesa-vulkan-drivers); GPU tests ignored");
const noGpu = gpu === null;

/** Asserts that two kNN results agree up to float rounding (order may swap on near-ties). */
function assertSameKnn(a: KnnGraph, b: KnnGraph, tol = 1e-5): void {
  assertEquals([a.n, a.k], [b.n, b.k]);
  for (let i = 0; i < a.n; i++) {
    for (let t = 0; t < a.k; t++) {
      const e = i * a.k + t;
      const sa = a.similarities[e], sb = b.similarities[e];
      assert(
        (sa === -Infinity && sb === -Infinity) || Math.abs(sa - sb) <= tol,
        `row ${i} slot ${t}: ${sa} vs ${sb}`,
      );
      if (a.indices[e] !== b.indices[e]) {
        // only a near-tie may swap two neighbours
        const other = Array.from(b.indices.subarray(i * a.k, (i + 1) * a.k)).indexOf(a.indices[e]);
        assert(
          other >= 0 && Math.abs(b.similarities[i * a.k + other] - sa) <= tol,
          `row ${i} slot ${t}: index ${a.indices[e]} vs ${b.indices[e]}`,
        );
      }
    }
  }
}

const shapes: [number, number, number][] = [
  [37, 1, 5], // D = 1, N not a multiple of the tile
  [10, 3, 16], // N smaller than k
  [301, 128, 20],
  [130, 512, 80],
  [67, 513, 7], // D = 513: padding
];

for (const [n, d, k] of shapes) {
  Deno.test({
    name: `knn gpu: n=${n} d=${d} k=${k} is exact and agrees with the CPU`,
    ignore: noGpu,
    fn: async () => {
      const m = randomRows(n, d, n * 7 + d, 4);
      const g = await new GpuKnn(gpu!).search(m, k, { minSim: -1 });
      assertExactKnn(g, m, k);
      assertSameKnn(g, await new CpuKnn({ workers: 0 }).search(m, k));
    },
  });
}

Deno.test({
  name: "knn gpu: many small chunks and dispatches give the same result, k up to 256",
  ignore: noGpu,
  fn: async () => {
    const m = randomRows(700, 40, 3, 30); // duplicates included
    const cpu = await new CpuKnn({ workers: 0 }).search(m, 256);
    const whole = await new GpuKnn(gpu!).search(m, 256, { minSim: -1 });
    const chunked = await new GpuKnn(gpu!, { maxChunkRows: 130, workPerDispatch: 1 }).search(
      m,
      256,
      { minSim: -1 },
    );
    assertSameKnn(whole, cpu);
    assertSameKnn(chunked, cpu);
  },
});

Deno.test({
  name: "knn gpu: min_sim is applied in the shader, and the links equal the CPU's",
  ignore: noGpu,
  fn: async () => {
    const m = randomRows(500, 8, 11, 20);
    const g = await new GpuKnn(gpu!, { maxChunkRows: 64 }).search(m, 30, { minSim: 0.6 });
    for (let e = 0; e < g.indices.length; e++) {
      if (g.indices[e] >= 0) assert(g.similarities[e] >= 0.6, "kept a neighbour below min_sim");
    }
    const cpu = await new CpuKnn({ workers: 0 }).search(m, 30);
    const a = linksFromKnn(g, 0.6), b = linksFromKnn(cpu, 0.6);
    assertEquals(a.source.length, b.source.length, "link count");
    const key = (l: typeof a, e: number) => `${l.source[e]}>${l.target[e]}`;
    const set = new Set(Array.from({ length: b.source.length }, (_, e) => key(b, e)));
    for (let e = 0; e < a.source.length; e++) assert(set.has(key(a, e)), `extra ${key(a, e)}`);
  },
});

Deno.test({
  name: "knn gpu: synthetic_h10k links on the GPU equal the reference list",
  ignore: noGpu || !hasShared("reference/synthetic_h10k"),
  fn: async () => {
    const feats = await readNpy(H10K.feats);
    const r = await clusterFeatures(feats, { k: 80, minSim: 0.5, knn: new GpuKnn(gpu!) });
    await assertLinksMatchReference(r.links, r.knn, 0.5);
    assertEquals(r.singletons, 980);
  },
});

Deno.test("knn: a failing GPU falls back to the CPU with one notice", async () => {
  class Broken implements KnnBackend {
    name = "gpu (broken)";
    search(): Promise<KnnGraph> {
      return Promise.reject(new GpuError("device lost (unknown): test"));
    }
  }
  const notices: string[] = [];
  const knn = new FallbackKnn(new Broken(), new CpuKnn({ workers: 0 }), (m) => notices.push(m));
  const m: Matrix = randomRows(20, 4, 1);
  const g = await knn.search(m, 3);
  await knn.search(m, 3);
  assertExactKnn(g, m, 3);
  assertEquals(notices.length, 1);
  assert(notices[0].includes("using the CPU"), notices[0]);
  assert(knn.name.startsWith("cpu"), knn.name);
});

Deno.test({
  name: "knn gpu: a destroyed device is a GpuError, not a crash or a wrong result",
  ignore: noGpu,
  fn: async () => {
    const ctx = await acquireGpu({ allowSoftware: true });
    const knn = new GpuKnn(ctx!);
    ctx!.device.destroy();
    await new Promise((r) => setTimeout(r, 50));
    let err: unknown = null;
    try {
      await knn.search(randomRows(100, 16, 2), 5);
    } catch (e) {
      err = e;
    }
    assert(err instanceof GpuError, `expected GpuError, got ${err}`);
  },
});
